"""Validate a platform document: every problem at once, each with its field path.

A document over the size limit is refused as such. Otherwise three passes, all run on every
document: literal secrets anywhere in the raw document, the structure and types (pydantic), and
the cross-field rules. When part of the document does not parse, the rules still run on every
component that does. A valid document may carry warnings: template expressions in a ``config``
override, chart versions outside what the value builders are written for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..documents import DocumentError, load_document
from .limits import SPEC_DOCUMENT, spec_size_problem, text_size_problem
from .manifests import config_foreign_objects
from .problems import Problem, from_validation_error, unique
from .secrets import plaintext_secrets
from .semantics import Findings, check_component, check_platform
from .spec import GrafanaSpec, LokiSpec, ObservabilityPlatform, PrometheusSpec, TempoSpec
from .spec.common import ComponentSpec
from .spec.platform import GlobalSpec, Metadata
from .supported import supported_version_warnings
from .templating import template_expressions

COMPONENT_MODELS: dict[str, type[ComponentSpec]] = {
    "prometheus": PrometheusSpec,
    "grafana": GrafanaSpec,
    "loki": LokiSpec,
    "tempo": TempoSpec,
}


@dataclass(frozen=True)
class Validation:
    platform: ObservabilityPlatform | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.platform is not None and not self.problems


class InvalidPlatform(ValueError):
    """A platform document with problems; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _covered(problem: Problem, secret_paths: set[str]) -> bool:
    """A structural error at (or under) a field already reported as a plaintext secret."""
    return any(
        problem.path == path or problem.path.startswith((f"{path}.", f"{path}["))
        for path in secret_paths
    )


def _component_findings(raw: Mapping[str, Any]) -> Findings:
    """Rules for each component that parses on its own (the whole document did not)."""
    findings = Findings()
    spec = raw.get("spec")
    if not isinstance(spec, Mapping):
        return findings
    name = None
    with contextlib.suppress(ValidationError):
        name = Metadata.model_validate(raw.get("metadata")).name
    global_labels: dict[str, str] = {}
    with contextlib.suppress(ValidationError):
        global_labels = GlobalSpec.model_validate(spec.get("global") or {}).external_labels
    parsed: dict[str, ComponentSpec] = {}
    for component, model in COMPONENT_MODELS.items():
        if isinstance(spec.get(component), Mapping):
            try:
                parsed[component] = model.model_validate(spec[component])
            except ValidationError:
                continue
    # A component that did not parse still counts as there unless it says enabled: false.
    enabled = {
        c
        for c in COMPONENT_MODELS
        if isinstance(spec.get(c), Mapping) and spec[c].get("enabled", True) is not False
    }
    for component, model_spec in parsed.items():
        check_component(
            component,
            model_spec,
            findings,
            enabled - {component},
            name,
            global_labels=global_labels,
        )
    return findings


def validate(document: Any) -> Validation:
    if not isinstance(document, Mapping):
        return Validation(
            None,
            [
                Problem(
                    "", "a platform document must be a mapping (apiVersion, kind, metadata, spec)"
                )
            ],
        )
    if too_large := spec_size_problem(document):
        # Not read further: a document this size is refused whatever else it holds.
        return Validation(None, [too_large])
    secret_problems = plaintext_secrets(document)
    secret_paths = {p.path for p in secret_problems}
    try:
        platform = ObservabilityPlatform.model_validate(document)
    except ValidationError as error:
        structural = [
            p
            for p in from_validation_error(error, ObservabilityPlatform)
            if not _covered(p, secret_paths)
        ]
        findings = _component_findings(document)
        return Validation(
            None,
            unique([*secret_problems, *structural, *findings.problems]),
            unique(findings.warnings),
        )
    findings = check_platform(platform)
    problems = unique([*secret_problems, *findings.problems, *config_foreign_objects(platform)])
    warnings = [
        *findings.warnings,
        *template_expressions(platform),
        *supported_version_warnings(platform),
    ]
    return Validation(None if problems else platform, problems, unique(warnings))


def read_document(text: str | bytes) -> Any:
    """The one platform document in ``text`` (YAML or JSON), read within
    :data:`~.limits.SPEC_DOCUMENT`; InvalidPlatform naming where it cannot be read."""
    if too_large := text_size_problem(text):
        raise InvalidPlatform([too_large])
    try:
        document = load_document(text, SPEC_DOCUMENT)
    except DocumentError as error:
        raise InvalidPlatform([Problem("", str(error))]) from None
    if document is None:
        raise InvalidPlatform([Problem("", "expected one platform document, found none")])
    return document


def load_platform(text: str | bytes) -> ObservabilityPlatform:
    """Parse and validate one platform document; raise InvalidPlatform with every problem."""
    result = validate(read_document(text))
    if result.platform is None:
        raise InvalidPlatform(result.problems)
    return result.platform

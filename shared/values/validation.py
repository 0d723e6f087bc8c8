"""Validate a platform document: every problem at once, each with its field path.

A document over the size limit is refused as such. Otherwise three passes, all run on every
document: literal secrets anywhere in the raw document, the structure and types (pydantic), and
the cross-field rules. When part of the document does not parse, the rules still run on the
rest, with that part's defaults in its place (and nothing reported about the stand-in). A
valid document may carry warnings: template expressions in a ``config`` override, chart
versions outside what the value builders are written for.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..documents import DocumentError, load_document
from .limits import SPEC_DOCUMENT, spec_size_problem, text_size_problem
from .manifests import config_foreign_objects
from .problems import Problem, format_path, from_validation_error, unique
from .secrets import plaintext_secrets
from .semantics import check_platform
from .spec import (
    API_VERSION,
    KIND,
    GrafanaSpec,
    LokiSpec,
    ObservabilityPlatform,
    PrometheusSpec,
    TempoSpec,
)
from .spec.common import ComponentSpec
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


# What stands in for a top-level part that does not parse, so the rest can be checked.
_PLACEHOLDERS: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": KIND,
    "metadata": {"name": "placeholder", "namespace": "placeholder"},
    "spec": {},
}
# Rounds of pruning: each removes every part that failed, so a few suffice; this bounds them.
_PRUNING_ROUNDS = 32


def _existing_prefix(document: Any, location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The longest start of ``location`` that is in ``document``."""
    node, found = document, 0
    for part in location:
        in_mapping = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            break
        node = node[part]
        found += 1
    return location[:found]


def _target(document: Any, location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """What to remove for the problem at ``location``: the value there, or the part that
    misses it; a list whole (its later items would change index); a top-level part as itself."""
    target = _existing_prefix(document, location)
    while target and isinstance(target[-1], int):
        target = target[:-1]
    if len(target) <= 1:
        top = str(location[0]) if location else ""
        return (top,) if top in _PLACEHOLDERS else ()
    return target


def _remove(document: dict[str, Any], target: tuple[int | str, ...]) -> None:
    """Remove ``target``, so that its default takes its place: a component becomes an empty one
    (still there), a top-level part a placeholder."""
    if len(target) == 1:
        document[str(target[0])] = copy.deepcopy(_PLACEHOLDERS[str(target[0])])
        return
    holder: Any = document
    for part in target[:-1]:
        holder = holder[part]
    if target[0] == "spec" and len(target) == 2 and target[1] in COMPONENT_MODELS:
        holder[target[-1]] = {}
    else:
        del holder[target[-1]]


def _best_effort(document: Mapping[str, Any]) -> tuple[ObservabilityPlatform | None, set[str]]:
    """The platform the document describes with every part that fails removed (defaults in
    its place), and the paths removed: the rules that span fields then run on all the rest."""
    pruned = copy.deepcopy(dict(document))
    removed: set[str] = set()
    for _ in range(_PRUNING_ROUNDS):
        try:
            return ObservabilityPlatform.model_validate(pruned), removed
        except ValidationError as error:
            targets = {
                target
                for item in error.errors(include_input=False)
                if (target := _target(pruned, tuple(item["loc"])))
            }
        chosen: set[tuple[int | str, ...]] = set()
        # Outermost first; what lies inside a removed part goes with it.
        for target in sorted(targets, key=len):
            if not any(target[:length] in chosen for length in range(1, len(target))):
                chosen.add(target)
        for target in chosen:
            _remove(pruned, target)
            removed.add(format_path(target))
        if not chosen:
            break
    return None, removed


def _prefixes(path: str) -> set[str]:
    """``path`` and every field path above it."""
    return {path[:index] for index, char in enumerate(path) if char in ".["} | {path}


def _unaffected(problem: Problem, removed: set[str], above_removed: set[str]) -> bool:
    """A finding neither at, under nor above a part that was removed (it could be about the
    defaults that stood in for it)."""
    return problem.path not in above_removed and not (_prefixes(problem.path) & removed)


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
    structural: list[Problem] = []
    removed: set[str] = set()
    try:
        platform: ObservabilityPlatform | None = ObservabilityPlatform.model_validate(document)
    except ValidationError as error:
        structural = [
            p
            for p in from_validation_error(error, ObservabilityPlatform)
            if not _covered(p, secret_paths)
        ]
        # Every problem at once: the rules run on everything that parsed.
        platform, removed = _best_effort(document)
    if platform is None:
        return Validation(None, unique([*secret_problems, *structural]))
    above_removed = set().union(*map(_prefixes, removed)) if removed else set()
    findings = check_platform(platform)
    problems = [
        p
        for p in [*findings.problems, *config_foreign_objects(platform)]
        if _unaffected(p, removed, above_removed)
    ]
    problems = unique([*secret_problems, *structural, *problems])
    warnings = [
        w
        for w in [
            *findings.warnings,
            *template_expressions(platform),
            *supported_version_warnings(platform),
        ]
        if _unaffected(w, removed, above_removed)
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

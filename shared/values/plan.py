"""What gunj would ask Helm for, per component: release, chart, version and values.

Values are built in layers, each winning over the ones before (Helm's merge rules, see
:mod:`.merge`):

1. gunj's defaults for the chart (``defaults/<component>.yaml``),
2. the values derived from the spec (``build/``), with template delimiters neutralised where
   the chart evaluates values as templates (``templating``),
3. ``valuesFrom`` Secrets and ConfigMaps, in order (read from the cluster at reconcile time),
4. the component's free-form ``config``.

Everything here is pure: the same platform gives the same plan, and nothing shared is modified.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .. import yamlio
from ..documents import MIB, DocumentError, DocumentLimits, load_document
from .build import DERIVERS, PlatformContext
from .merge import Values, effective, merge_all, set_path
from .names import release_name
from .spec import ObservabilityPlatform
from .spec.common import ComponentSpec, Mode, ValuesFrom
from .templating import neutralise_values

DEFAULT_MODE_VARIABLE = "GUNJ_MANAGER_MODE"


@dataclass(frozen=True)
class UpstreamChart:
    repository: str
    chart: str
    versions: str


@functools.cache
def _load_defaults(name: str) -> Any:
    text = resources.files(__package__).joinpath("defaults", f"{name}.yaml").read_text()
    return yamlio.safe_load(text) or {}


def default_values(component: str) -> Values:
    """gunj's defaults for a component's chart (a fresh copy every call)."""
    return copy.deepcopy(_load_defaults(component))


def upstream_chart(component: str) -> UpstreamChart:
    return UpstreamChart(**_load_defaults("charts")[component])


@dataclass(frozen=True)
class ComponentPlan:
    component: str
    release: str
    namespace: str
    mode: Mode
    repository: str
    chart: str
    chart_version: str
    """A version or range; the newest chart version it allows is installed."""
    app_version: str | None
    """When set, the newest chart version carrying this app version is installed."""
    base_values: Values
    """Layers 1 and 2: defaults and the values derived from the spec."""
    values_from: tuple[ValuesFrom, ...]
    config: Values
    spec: ComponentSpec
    literal_values: Values = field(default_factory=dict, repr=False)
    """Layers 1 and 2 with the spec's strings as written: for native mode, where nothing is
    evaluated as a template."""

    @property
    def values(self) -> Values:
        """The values without the ``valuesFrom`` layer (all of them when there is none)."""
        return merge_all(self.base_values, self.config)

    def complete_values(self, values_from_layers: Sequence[Mapping[str, Any]]) -> Values:
        """The values Helm gets, given the content of each ``valuesFrom`` entry, in order."""
        return merge_all(self.base_values, *values_from_layers, self.config)

    def literal_complete_values(self, values_from_layers: Sequence[Mapping[str, Any]]) -> Values:
        """The same, with the spec's strings as written (native mode renders them itself)."""
        return merge_all(self.literal_values, *values_from_layers, self.config)


VALUES_FROM_DOCUMENT = DocumentLimits(
    max_bytes=MIB,
    max_size=MIB,
    max_nodes=100_000,
    max_depth=64,
    max_string=MIB,
    max_number=40,
)
"""How a ``valuesFrom`` document is read: a ConfigMap or Secret holds at most 1 MiB."""


def values_from_layer(reference: ValuesFrom, content: str) -> Values:
    """The values one ``valuesFrom`` entry contributes, from the content of its key."""
    if reference.target_path:
        return set_path({}, reference.target_path, content)
    try:
        loaded = load_document(content, VALUES_FROM_DOCUMENT) if content.strip() else {}
    except DocumentError as error:
        # Where, never what: the content may be a secret.
        raise ValueError(f"{reference.describe()}: {error}") from None
    if not isinstance(loaded, Mapping):
        raise ValueError(
            f"{reference.describe()} does not hold a YAML mapping of values "
            "(use targetPath for a single value)"
        )
    return dict(loaded)


def spec_mode(platform: ObservabilityPlatform, spec: ComponentSpec) -> Mode | None:
    """The mode the spec names for a component (its own, else the platform's); None leaves it
    to the process default, which picks the form of a new component only."""
    return spec.mode or platform.spec.global_.mode


def resolve_mode(platform: ObservabilityPlatform, spec: ComponentSpec) -> Mode:
    mode = spec_mode(platform, spec) or os.environ.get(DEFAULT_MODE_VARIABLE)
    return "native" if mode == "native" else "helm"


def plan_component(
    platform: ObservabilityPlatform, component: str, context: PlatformContext
) -> ComponentPlan:
    spec = platform.spec.component(component)
    if spec is None:
        raise KeyError(component)
    upstream = upstream_chart(component)
    source = spec.chart
    # Derived once; merge and neutralise_values copy, so both layers can start from it.
    defaults = default_values(component)
    derived = DERIVERS[component](spec, context)
    literal = merge_all(defaults, derived)
    # A spec's strings reach values the chart evaluates as templates: written so they stay text.
    base = merge_all(defaults, neutralise_values(component, derived))
    return ComponentPlan(
        component=component,
        release=release_name(platform.metadata.name, component),
        namespace=platform.metadata.namespace,
        mode=resolve_mode(platform, spec),
        repository=(source.repository if source and source.repository else upstream.repository),
        chart=(source.name if source and source.name else upstream.chart),
        chart_version=spec.chart_version or upstream.versions,
        app_version=spec.version,
        base_values=base,
        values_from=tuple(spec.values_from),
        config=copy.deepcopy(spec.config or {}),
        spec=spec,
        literal_values=literal,
    )


def plan_platform(platform: ObservabilityPlatform) -> list[ComponentPlan]:
    """Plans for the enabled components, in reconcile order (Grafana last: its datasources
    point at the others, so it sees their final Service names)."""
    plans: list[ComponentPlan] = []
    context = PlatformContext.of(platform)
    for component in platform.spec.enabled():
        if component == "grafana":
            loki = next((p for p in plans if p.component == "loki"), None)
            gateway = (
                bool(effective(loki.values).get("gateway", {}).get("enabled", True))
                if loki
                else True
            )
            context = PlatformContext.of(platform, loki_gateway=gateway)
        plans.append(plan_component(platform, component, context))
    return plans

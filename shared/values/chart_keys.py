"""Names a person writes at a component's top level meaning the chart's own values.

A spec component is gunj's model of the component, not the chart's values: ``server:`` under
``spec.prometheus`` or ``values:`` under ``spec.grafana`` belongs in the component's ``config``
(Helm values merged over what gunj derives). Such a name is recognised from the project's own
data on each chart (the values gunj sets in ``defaults/``, the values the chart evaluates in
``data/templated.yaml``) and from what Helm charts commonly call their values.
"""

from __future__ import annotations

import functools
from importlib import resources

from .. import yamlio
from .templated import templated_charts

# What many charts call their values, and what people call a chart's values as a whole.
_COMMON = frozenset(
    {
        "values",
        "helmValues",
        "chartValues",
        "extraValues",
        "overrides",
        "image",
        "service",
        "serviceAccount",
        "serviceMonitor",
        "rbac",
        "podAnnotations",
        "podLabels",
        "podSecurityContext",
        "securityContext",
        "containerSecurityContext",
        "env",
        "extraArgs",
        "extraEnv",
        "extraVolumes",
        "extraVolumeMounts",
        "extraObjects",
        "nameOverride",
        "fullnameOverride",
        "priorityClassName",
        "networkPolicy",
        "podDisruptionBudget",
        "livenessProbe",
        "readinessProbe",
    }
)


@functools.cache
def chart_value_names(component: str) -> frozenset[str]:
    """The top-level values of the component's chart that the project's data names."""
    names = set(_COMMON)
    chart = templated_charts().get(component)
    names |= {p.tokens[0] for p in (chart.paths if chart else ()) if p.tokens[0] != "*"}
    defaults = resources.files(__package__).joinpath("defaults", f"{component}.yaml")
    if defaults.is_file():
        names |= set(yamlio.safe_load(defaults.read_text()) or {})
    return frozenset(names)


def looks_like_chart_value(component: str, name: str) -> bool:
    return name in chart_value_names(component)

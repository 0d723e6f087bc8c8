"""Native mode's renderers: a component's complete Helm values in, the plain Kubernetes objects
that run it out, with no Helm and no templates.

The values are the ones the chart would get (``ComponentPlan.complete_values``), so both modes
run the same typed, translated configuration: the renderers read the values keys the upstream
charts read, over the charts' own defaults, and write the component's configuration files from
them. Services keep the charts' names and ports; every other object is ``<release>-native...``
(see :mod:`.naming`).

The output is deterministic: the same arguments give the same objects, in the same order, with
the same text, so a digest of it tells whether anything changed. Bump :data:`RENDERER_VERSION`
whenever a change here changes what is rendered from the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .images import APP_VERSIONS
from .naming import Target
from .reading import RenderError

RENDERER_VERSION = "1.1.0"

Renderer = Callable[[Target, dict[str, Any], str | None], list[dict[str, Any]]]
# Objects come out in the order they are best applied in: who may run, then what pods read,
# then how they are reached, then the pods.
_ORDER = (
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "Service",
    "StatefulSet",
    "Deployment",
    "Ingress",
)


def _renderers() -> dict[str, Renderer]:
    from . import grafana, loki, prometheus, tempo

    return {
        "prometheus": prometheus.render,
        "grafana": grafana.render,
        "loki": loki.render,
        "tempo": tempo.render,
    }


def _sorted_copy(node: Any) -> Any:
    """A copy with every mapping's keys in sorted order: the output is the same, byte for byte,
    whatever order the values listed their keys in, and shares no part with the renderers'
    constants or with the values."""
    if isinstance(node, Mapping):
        return {key: _sorted_copy(node[key]) for key in sorted(node, key=str)}
    if isinstance(node, list):
        return [_sorted_copy(item) for item in node]
    return node


def _sort_key(obj: dict[str, Any]) -> tuple[int, str]:
    return _ORDER.index(obj["kind"]), obj["metadata"]["name"]


def render(
    component: str,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    labels: Mapping[str, str],
    app_version: str | None = None,
) -> list[dict[str, Any]]:
    """The objects that run ``component`` as ``release`` in ``namespace``, each labelled with
    ``labels``. Raises :class:`RenderError` when the values cannot be rendered, naming the
    values path."""
    renderers = _renderers()
    if component not in renderers:
        raise RenderError(f"no native renderer for {component!r}")
    if not release or not namespace:
        raise RenderError("a release name and a namespace are required")
    target = Target(component, release, namespace, dict(sorted(labels.items())))
    objects = renderers[component](target, dict(values), app_version)
    return [_sorted_copy(obj) for obj in sorted(objects, key=_sort_key)]


__all__ = ["APP_VERSIONS", "RENDERER_VERSION", "RenderError", "render"]

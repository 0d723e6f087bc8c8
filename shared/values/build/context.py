"""What a component's values depend on beyond its own spec: the platform's name, namespace,
global settings and which other components run (for cross-component wiring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec.common import ComponentSpec
from ..spec.platform import GlobalSpec, ObservabilityPlatform


@dataclass(frozen=True)
class PlatformContext:
    name: str
    namespace: str
    global_: GlobalSpec
    enabled: frozenset[str]
    loki_gateway: bool = True

    @classmethod
    def of(cls, platform: ObservabilityPlatform, loki_gateway: bool = True) -> PlatformContext:
        return cls(
            name=platform.metadata.name,
            namespace=platform.metadata.namespace,
            global_=platform.spec.global_,
            enabled=frozenset(platform.spec.enabled()),
            loki_gateway=loki_gateway,
        )


def placement(spec: ComponentSpec, context: PlatformContext) -> dict[str, Any]:
    """nodeSelector, tolerations and affinity: the component's over the platform's global ones
    (node selectors merge, tolerations add up, affinity is the component's own)."""
    result: dict[str, Any] = {}
    selector = {**context.global_.node_selector, **(spec.node_selector or {})}
    if selector:
        result["nodeSelector"] = selector
    tolerations = [*context.global_.tolerations, *(spec.tolerations or [])]
    if tolerations:
        result["tolerations"] = [
            t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tolerations
        ]
    if spec.affinity:
        result["affinity"] = spec.affinity
    return result


def resources(spec: ComponentSpec) -> dict[str, Any]:
    if spec.resources is None:
        return {}
    return spec.resources.model_dump(by_alias=True, exclude_none=True, mode="json")

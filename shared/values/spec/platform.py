"""``observability.io/v1beta1`` ``ObservabilityPlatform``: one per target cluster, declaring which
of Prometheus, Grafana, Loki and Tempo run there and how."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from ..types import DNSLabel, LabelMap, MetricLabels
from .base import SpecModel
from .common import ComponentSpec, DriftDetection, Mode, Toleration
from .grafana import GrafanaSpec
from .loki import LokiSpec
from .prometheus import PrometheusSpec
from .status import PlatformStatus
from .tempo import TempoSpec

API_VERSION = "observability.io/v1beta1"
KIND = "ObservabilityPlatform"
# Reconcile order: Grafana's datasources point at the others.
COMPONENTS = ("prometheus", "loki", "tempo", "grafana")


class Metadata(SpecModel):
    # Fields the API server adds (uid, resourceVersion, managedFields, ...) are ignored.
    model_config = ConfigDict(extra="ignore")

    name: DNSLabel
    namespace: DNSLabel
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    generation: int | None = None


class GlobalSpec(SpecModel):
    external_labels: MetricLabels = Field(default_factory=dict)
    node_selector: LabelMap = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    log_level: Literal["debug", "info", "warn", "error"] = "info"
    mode: Mode | None = Field(None, description="default mode of every component")
    drift_detection: DriftDetection = Field(
        default_factory=DriftDetection, description="for every component that sets none"
    )


class PlatformSpec(SpecModel):
    paused: bool = Field(False, description="stop reconciling until unpaused")
    global_: GlobalSpec = Field(default_factory=GlobalSpec, alias="global")
    prometheus: PrometheusSpec | None = None
    grafana: GrafanaSpec | None = None
    loki: LokiSpec | None = None
    tempo: TempoSpec | None = None

    def component(self, name: str) -> ComponentSpec | None:
        spec: ComponentSpec | None = getattr(self, name)
        return spec

    def enabled(self) -> list[str]:
        """Enabled components, in reconcile order."""
        return [name for name in COMPONENTS if (spec := self.component(name)) and spec.enabled]


class ObservabilityPlatform(SpecModel):
    api_version: Literal["observability.io/v1beta1"]
    kind: Literal["ObservabilityPlatform"]
    metadata: Metadata
    spec: PlatformSpec
    status: PlatformStatus | None = None

    def manifest(self) -> dict[str, Any]:
        """The platform as Kubernetes stores it (camelCase keys, no status)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"status"})

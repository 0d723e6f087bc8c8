"""The ObservabilityPlatform spec model."""

from .common import ComponentSpec
from .grafana import GrafanaSpec
from .loki import LokiSpec
from .platform import API_VERSION, COMPONENTS, KIND, ObservabilityPlatform, PlatformSpec
from .prometheus import PrometheusSpec
from .status import PlatformStatus
from .tempo import TempoSpec

__all__ = [
    "API_VERSION",
    "COMPONENTS",
    "KIND",
    "ComponentSpec",
    "GrafanaSpec",
    "LokiSpec",
    "ObservabilityPlatform",
    "PlatformSpec",
    "PlatformStatus",
    "PrometheusSpec",
    "TempoSpec",
]

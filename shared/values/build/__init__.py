"""Per-component value builders: a component's spec and its platform in, Helm values out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import grafana, loki, prometheus, tempo
from .context import PlatformContext

Deriver = Callable[[Any, PlatformContext], dict[str, Any]]
DERIVERS: dict[str, Deriver] = {
    "prometheus": prometheus.derive,
    "grafana": grafana.derive,
    "loki": loki.derive,
    "tempo": tempo.derive,
}

__all__ = ["DERIVERS", "PlatformContext"]

"""What the live check finds, as plain data: the objects that drifted (by key, and where), the
workloads not ready, the objects it could not compare."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...kube.keys import ObjectKey
from .paths import Path


@dataclass(frozen=True)
class DriftedObject:
    key: ObjectKey
    change: Literal["missing", "changed"]
    paths: tuple[str, ...] = ()
    """Where it differs, as a person reads it (never a value)."""
    kept: tuple[Path, ...] = ()
    """Fields that differ but are not drift (ignored, or another controller's): a
    correction leaves them as they are."""

    def describe(self) -> str:
        if self.change == "missing":
            return f"{self.key.describe()} is missing"
        return f"{self.key.describe()} changed at {', '.join(self.paths)}"


@dataclass(frozen=True)
class LiveState:
    """What the cluster holds of one release, against what its current revision holds."""

    drifted: tuple[DriftedObject, ...] = ()
    not_ready: tuple[str, ...] = ()
    """Each workload not ready now, and why."""
    unchecked: tuple[str, ...] = ()
    """Objects that could not be compared, and why."""
    objects: int = 0

    def describe(self) -> str:
        parts = [d.describe() for d in self.drifted] + list(self.not_ready)
        return "; ".join(parts) or f"{self.objects} object(s) as the release holds them"

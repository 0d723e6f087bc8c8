"""The spec's drift settings for one component: its ``driftDetection`` over the platform's
``global.driftDetection``, and which fields of which objects its ignore rules silence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ...kube.keys import ObjectKey
from ...values.spec.common import ComponentSpec, DriftDetection, DriftIgnore
from .paths import Path, from_pointer, under

DriftMode = Literal["enabled", "warn", "disabled"]
DEFAULT_MODE: DriftMode = "enabled"


@dataclass(frozen=True)
class Rule:
    pointer: tuple[str, ...]
    kind: str | None = None
    name: str | None = None

    def silences(self, key: ObjectKey, path: Path) -> bool:
        if self.kind is not None and key.kind != self.kind:
            return False
        if self.name is not None and key.name != self.name:
            return False
        return under(path, self.pointer)


@dataclass(frozen=True)
class DriftSettings:
    mode: DriftMode = DEFAULT_MODE
    rules: tuple[Rule, ...] = ()

    def ignored(self, key: ObjectKey, path: Path) -> bool:
        return any(rule.silences(key, path) for rule in self.rules)


def _rules(ignores: Sequence[DriftIgnore]) -> tuple[Rule, ...]:
    return tuple(
        Rule(
            from_pointer(pointer),
            ignore.target.kind if ignore.target else None,
            ignore.target.name if ignore.target else None,
        )
        for ignore in ignores
        for pointer in ignore.paths
    )


def drift_settings(spec: ComponentSpec | None, platform_default: DriftDetection) -> DriftSettings:
    """The component's settings: its mode, else the platform's, else enabled; the platform's
    ignore rules and its own."""
    own = spec.drift_detection if spec is not None else DriftDetection()
    mode: DriftMode = own.mode or platform_default.mode or DEFAULT_MODE
    return DriftSettings(mode, _rules([*platform_default.ignore, *own.ignore]))

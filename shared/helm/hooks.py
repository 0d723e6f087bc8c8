"""A release's hooks, in the order Helm runs them, with the phase of their last run.

Helm runs hooks (pre-install Jobs, post-upgrade Pods, ...) inside install, upgrade, rollback and
uninstall; how long gunj gives an operation and its hooks is the engine's decision
(:mod:`shared.engine.budget`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .models import Release


@dataclass(frozen=True)
class HookInfo:
    name: str
    kind: str
    events: tuple[str, ...]
    weight: int
    delete_policies: tuple[str, ...]
    phase: str
    started_at: datetime | None
    completed_at: datetime | None

    @property
    def is_test(self) -> bool:
        return bool({"test", "test-success"} & set(self.events))


def release_hooks(release: Release) -> list[HookInfo]:
    """Hooks of a release in the order Helm runs them within an event (by weight, then name)."""
    hooks = [
        HookInfo(
            hook.name,
            hook.kind,
            tuple(hook.events),
            hook.weight,
            tuple(hook.delete_policies),
            hook.last_run.phase or "",
            hook.last_run.started_at,
            hook.last_run.completed_at,
        )
        for hook in release.hooks
    ]
    return sorted(hooks, key=lambda h: (h.weight, h.name))

"""A release's hooks and what the spec says about running them.

Helm runs hooks (pre-install Jobs, post-upgrade Pods, ...) inside install, upgrade, rollback and
uninstall, and waits for them with the operation's one ``--timeout``. A spec turns hooks off
(``--no-hooks``) or gives them more time than the rest of the operation; Helm then waits the
longer of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..values.spec.common import ComponentSpec
from ..values.types import to_timedelta
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


@dataclass(frozen=True)
class HookOptions:
    no_hooks: bool
    timeout: timedelta


def hook_options(spec: ComponentSpec) -> HookOptions:
    """The ``--no-hooks`` flag and ``--timeout`` a component's Helm operations run with."""
    timeout = to_timedelta(spec.timeout)
    if not spec.hooks.enabled:
        return HookOptions(no_hooks=True, timeout=timeout)
    if spec.hooks.timeout:
        timeout = max(timeout, to_timedelta(spec.hooks.timeout))
    return HookOptions(no_hooks=False, timeout=timeout)

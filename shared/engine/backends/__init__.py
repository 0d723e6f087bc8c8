"""How a component's release is made: through Helm (:mod:`.helm`), or as plain manifests applied
by gunj itself (:mod:`.native`). Both keep revisions in the same storage format, so one engine
observes, classifies, verifies and remediates either."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from ...helm.releases import ReleaseStore

if TYPE_CHECKING:
    from ..context import EngineContext
    from ..desired import DesiredRelease

Mode = Literal["helm", "native"]


@dataclass(frozen=True)
class Change:
    """An install or an upgrade, as a backend is asked to make it."""

    first: bool
    """An install (the release has no revision yet); else an upgrade."""
    labels: dict[str, str]
    """The release's own labels (gunj's platform, component and digest)."""
    timeout: timedelta
    """The whole operation, hooks and the wait for the workloads included."""
    description: str
    previous: int | None = None
    """The release's revision before the change (None: none); the change makes a newer one."""

    @property
    def verb(self) -> str:
        return "install" if self.first else "upgrade"


class Backend(Protocol):
    @property
    def mode(self) -> Mode: ...

    @property
    def store(self) -> ReleaseStore:
        """Where this mode's revisions are read from."""
        ...

    def change(self, ctx: EngineContext, desired: DesiredRelease, change: Change) -> None:
        """Make ``desired`` the release's next revision (its first, for an install)."""
        ...

    def rollback(
        self,
        ctx: EngineContext,
        release: str,
        revision: int,
        timeout: timedelta,
        no_hooks: bool,
    ) -> None: ...

    def uninstall(
        self, ctx: EngineContext, release: str, timeout: timedelta, no_hooks: bool
    ) -> None: ...

    def take_over(self, ctx: EngineContext, release: str) -> None:
        """After a switch from the other mode removed its form: take what it held (the
        Services both forms name alike)."""
        ...

"""What an action is, and what it reports when it has run (the runners are in :mod:`.actions`).

Plain data, below everything that decides (:mod:`.decide`), accounts for failures
(:mod:`.remediation`) or records (:mod:`.record`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    INSTALL = "install"
    UPGRADE = "upgrade"
    VERIFY = "verify"
    ROLLBACK = "rollback"
    UNLOCK = "unlock"
    UNINSTALL = "uninstall"
    CORRECT = "correct"
    """Apply the release's own objects again where the live ones drifted (no new revision)."""

    @property
    def changes_content(self) -> bool:
        """Install and upgrade: the release then holds what the spec asks for."""
        return self in {Action.INSTALL, Action.UPGRADE}


@dataclass(frozen=True)
class ActionResult:
    action: Action
    ok: bool
    message: str
    revision: int | None = None
    """The release's revision after the action (None: no release)."""
    counts_as_failure: bool = False
    """A failed attempt at the desired digest (Helm recorded it, or verification failed)."""
    hopeless: bool = False
    """The same attempt would fail the same way (e.g. the chart does not render): spend the
    remaining retries at once."""
    verification: tuple[bool, str] | None = None
    """For verify: passed, and what was found."""
    blocked: str = ""
    """The cluster's reason the change cannot come up without a person (see
    :mod:`.verification.blockers`): the attempt was stopped early, and is hopeless."""

"""What an action reports."""

from __future__ import annotations

from dataclasses import dataclass

from ..decide import Action


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

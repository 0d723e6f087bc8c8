"""Where a spec, or a command, came from and how long the work on it may take."""

from __future__ import annotations

from dataclasses import dataclass

from .context import Progress, quiet


@dataclass(frozen=True)
class Request:
    generation: int | None = None
    """The publisher's generation (older than the cluster's: ignored)."""
    message_id: str | None = None
    """The Pub/Sub message (applied already: a duplicate)."""
    source: str | None = None
    """Where the spec came from (a commit, ``gunj apply``, ``upgrade-check``)."""
    deadline: float | None = None
    """time.monotonic() by which to stop; None: no limit."""
    progress: Progress = quiet
    resync: bool = False
    """A scheduled (or asked for) look at a platform as its cluster holds it: when nothing
    needs doing, only the time it was looked at is written (``status.observedAt``)."""

"""The outcome of one reconcile, as the command line prints it and the functions publish it:
small, typed, and free of values and secrets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Result = Literal[
    "ready",  # every component in sync and verified
    "corrected",  # ready, after live objects that drifted were put back
    "drifted",  # live objects differ from their releases; the spec says only to warn
    "degraded",  # in sync, but a workload is not ready now
    "progressing",  # work remains; the next event (or run) continues it
    "deferred",  # another reconcile holds the platform, or a Helm of it may still run
    "stalled",  # cannot progress until the spec changes or a person acts
    "failed",  # a component has no working release
    "stale",  # the spec is older than the one the cluster has
    "duplicate",  # this message was applied already
    "paused",  # the spec says paused
    "removed",  # the platform was uninstalled
    "rolled-back",  # a rollback a person or a health alert asked for
    "ignored",  # an alert that changes nothing (resolved, outside the bake window, ...)
    "refused",  # the spec cannot be applied to this cluster (nothing changed)
    "invalid",  # the spec is not valid (nothing changed)
    "error",  # something went wrong outside the platform (cluster, repository)
]
TRANSIENT: frozenset[str] = frozenset({"progressing", "deferred"})
# Final results (any but the transient ones) that leave the platform as asked: exit code 0.
DONE: frozenset[str] = frozenset(
    {"ready", "corrected", "duplicate", "removed", "rolled-back", "paused", "ignored"}
)


@dataclass(frozen=True)
class ComponentReport:
    component: str
    state: str
    message: str
    chart_version: str | None = None
    revision: int | None = None
    actions: tuple[str, ...] = ()
    """What was done, in order: ``upgrade``, ``verify``, ``rollback failed``, ``quarantine`` (what
    a rollback returned from was quarantined) ..."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    message: str
    platform: str = ""
    """``namespace/name``."""
    cluster: str = ""
    generation: int | None = None
    components: tuple[ComponentReport, ...] = ()
    duration: float = 0.0
    transient_error: bool = False

    @property
    def transient(self) -> bool:
        """Whether the event should be delivered again (Pub/Sub retries with backoff)."""
        return self.result in TRANSIENT or (self.result == "error" and self.transient_error)

    @property
    def exit_code(self) -> int:
        """0 done, 1 permanent problem, 3 transient (retry later). 2 is for usage errors."""
        if self.transient:
            return 3
        return 0 if self.result in DONE else 1

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["components"] = [asdict(c) for c in self.components]
        document["transient"] = self.transient
        return document

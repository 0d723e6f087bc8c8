"""A reconcile's result and its outcome: the platform's result from its components' states, and
the :class:`~.outcome.Outcome` the command line prints and the functions publish, each
component's report scrubbed by the redactor."""

from __future__ import annotations

from collections.abc import Sequence

from ..redaction import Redactor
from ..values.spec.status import ComponentState, PlatformStatus
from .action import Action
from .loop import ComponentRun
from .outcome import ComponentReport, Outcome, Result
from .resource import StoredPlatform

READY = "every component is in sync and verified"
RESULT_MESSAGES: dict[Result, str] = {
    "ready": READY,
    "deferred": "a Helm operation of this platform may still be running; retry later",
    "progressing": "work remains; the next event continues it",
    "failed": "a component has no working release",
    "stalled": "a component cannot progress until the spec changes or a person acts",
    "corrected": "live objects that had drifted were put back; every component is in sync "
    "and verified",
    "drifted": "live objects differ from what their releases hold (drift detection warns only)",
    "degraded": "every component is in sync, but a workload is not ready now",
}


# The platform's result while any component is in one of these states, the most pressing first.
_PRESSING: tuple[tuple[frozenset[ComponentState], Result], ...] = (
    (frozenset({ComponentState.LOCKED}), "deferred"),
    (frozenset({ComponentState.PROGRESSING}), "progressing"),
    (frozenset({ComponentState.FAILED}), "failed"),
    (frozenset(s for s in ComponentState if s.stuck), "stalled"),
    (frozenset({ComponentState.DEGRADED}), "degraded"),
    (frozenset({ComponentState.DRIFTED}), "drifted"),
)


def result_of(runs: Sequence[ComponentRun]) -> Result:
    """The platform's result from its components' states, the most pressing first; ready
    (``corrected`` when live objects were put back on the way)."""
    states = {run.state for run in runs}
    for pressing, result in _PRESSING:
        if states & pressing:
            return result
    corrected = any(a.action is Action.CORRECT and a.ok for run in runs for a in run.actions)
    return "corrected" if corrected else "ready"


def _actions(run: ComponentRun) -> tuple[str, ...]:
    """What the run did, in order: each action (``rollback``, ``upgrade failed``...), and
    ``quarantine`` where what a rollback returned from was quarantined."""
    done = [f"{a.action.value}{'' if a.ok else ' failed'}" for a in run.actions]
    if run.quarantined_after is not None:
        done.insert(run.quarantined_after, "quarantine")
    return tuple(done)


def report(
    redactor: Redactor,
    result: Result,
    message: str,
    *,
    platform: StoredPlatform,
    generation: int | None,
    runs: Sequence[ComponentRun] = (),
    status: PlatformStatus | None = None,
) -> Outcome:
    """The outcome of work on ``platform``: ``result`` and ``message``, with a report of each
    component run (its chart version and revision from ``status``, else the stored one)."""
    components = (status or platform.status).components
    reports = []
    for run in runs:
        record = components.get(run.component)
        reports.append(
            ComponentReport(
                component=run.component,
                state=run.state,
                message=redactor(run.message),
                chart_version=record.chart_version if record else None,
                revision=record.revision if record else None,
                actions=_actions(run),
            )
        )
    return Outcome(result, redactor(message), generation=generation, components=tuple(reports))

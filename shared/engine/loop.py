"""One component, one step at a time: observe, classify, decide, act, and observe again, until
it is in sync, stalled, or the step budget or the invocation's deadline is spent. A failed
attempt is remediated and, while retries remain, tried again within the same pass.

A rollback a person or an alert asks for enters the same loop as a forced first decision
(:class:`Forced`): it is run and recorded like any action, what it left is quarantined, and the
loop goes on with the actions the request allows (the verification of what was restored).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..helm.releases import ObservedRelease
from ..values.spec.status import ComponentState
from .action import Action, ActionResult
from .actions import RUNNERS, Step
from .classify import Finding
from .context import EngineContext
from .decide import Decision
from .desired import DesiredRelease
from .errors import OutOfTime
from .quarantine import held_for, what_to_hold
from .record import Recorder
from .wanted import Wanted


@dataclass
class ComponentRun:
    component: str
    state: ComponentState
    message: str
    actions: list[ActionResult] = field(default_factory=list)


@dataclass(frozen=True)
class Forced:
    """A decision made outside the loop, taken as its first step."""

    decision: Decision
    then: frozenset[Action] = frozenset({Action.VERIFY})
    """The actions the loop may take after it; any other ends the pass."""
    hold: str | None = None
    """Quarantine what the forced action returned from, for this reason."""
    incident: str | None = None
    """The alert that asked for it (recorded with the quarantine)."""


def _hold(
    recorder: Recorder,
    want: Wanted,
    forced: Forced,
    before: ObservedRelease,
    after: ObservedRelease,
) -> Wanted:
    """Quarantine what the forced action returned from (when it asks to), and judge what
    follows with it held."""
    held = what_to_hold(before, after) if forced.hold is not None else None
    if held is None or forced.hold is None:
        return want
    version, digest = held
    recorder.quarantine(
        want.component, version, reason=forced.hold, incident=forced.incident, digest=digest
    )
    return replace(want, held=held_for(recorder.status.quarantined_versions, want.component))


def step_budget(desired: DesiredRelease | None) -> int:
    """Enough steps for every allowed attempt with its remediation and verification."""
    retries = desired.retries if desired is not None else 0
    return 6 + 4 * (retries + 1)


def reconcile_component(
    ctx: EngineContext, recorder: Recorder, want: Wanted, forced: Forced | None = None
) -> ComponentRun:
    """``want.first`` may come from the API server's cache (cheap, possibly a moment old):
    enough to find a component in sync, but any action is decided again on a fresh
    observation."""
    component, release, desired, backend = want.component, want.release, want.desired, want.backend
    tracked = want.after is None  # the old form of a switching component is judged on its own
    run = ComponentRun(component, ComponentState.PROGRESSING, "")
    observed, fresh = want.first, False
    pending = forced.decision if forced is not None else None
    for _ in range(step_budget(desired) + 1):
        record = recorder.component(component) if tracked else None
        classification = None
        if pending is not None:
            decision = pending
        else:
            classification, decision = want.judge(
                observed, record, platform=ctx.platform, now=ctx.clock()
            )
        if decision.action is not None and not fresh:
            observed, fresh = backend.store.observe(release, ctx.namespace, ctx.clock()), True
            continue
        if tracked:
            recorder.observed(component, desired, observed, decision, mode=backend.mode)
        if classification is not None and classification.finding is Finding.DRIFTED:
            recorder.warn(component, "Drifted", classification.reason)
        allowed = forced is None or pending is not None or decision.action in forced.then
        if decision.action is None or not allowed:
            run.state, run.message = decision.outcome, decision.reason
            return run
        step = Step(component, desired, observed, decision, backend)
        try:
            result = RUNNERS[decision.action](ctx, step)
        except OutOfTime as error:
            # Too little of the invocation is left to start the action: nothing was begun, and
            # the next event resumes here.
            run.message = f"{error}; the next event continues"
            if tracked:
                recorder.state(component, ComponentState.PROGRESSING, run.message)
            return run
        recorder.finished(component, desired, decision, result, track=tracked)
        run.actions.append(result)
        before, observed = observed, backend.store.observe(release, ctx.namespace, ctx.clock())
        if pending is not None and forced is not None:
            pending = None
            if not result.ok:
                run.state, run.message = ComponentState.FAILED, result.message
                return run
            want = _hold(recorder, want, forced, before, observed)
    run.message = "the step budget of this pass is spent; the next event continues"
    if tracked:
        recorder.state(component, ComponentState.PROGRESSING, run.message)
    return run

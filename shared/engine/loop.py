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
from ..values.spec.status import ComponentState, ComponentStatus
from .action import Action, ActionResult
from .actions import RUNNERS, Step
from .classify import Finding, verified_here
from .context import EngineContext
from .decide import Decision
from .desired import DesiredRelease
from .errors import OutOfTime
from .live.state import LiveState
from .quarantine import held_for, what_to_hold
from .record import Recorder
from .wanted import Wanted, look_live


@dataclass
class ComponentRun:
    component: str
    state: ComponentState
    message: str
    actions: list[ActionResult] = field(default_factory=list)
    quarantined_after: int | None = None
    """How many of ``actions`` had run when what the forced action returned from was
    quarantined (None: nothing was)."""


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


# Findings that say the component was changed outside gunj, each reported as an Event.
_DRIFT = {
    Finding.DRIFTED: "Drifted",
    Finding.OBJECTS_DRIFTED: "Drifted",
    Finding.REPUBLISHED: "Republished",
}


def _hold(
    recorder: Recorder,
    want: Wanted,
    forced: Forced | None,
    before: ObservedRelease,
    after: ObservedRelease,
    *,
    run: ComponentRun,
) -> Wanted:
    """Quarantine what the forced action returned from (when it asks to), and judge what
    follows with it held."""
    if forced is None or forced.hold is None or (held := what_to_hold(before, after)) is None:
        return want
    version, digest = held
    recorder.quarantine(
        want.component, version, reason=forced.hold, incident=forced.incident, digest=digest
    )
    run.quarantined_after = len(run.actions)
    # The fleet's holds stay: what the rollback returns to may be held on every cluster.
    return replace(
        want,
        held=held_for(recorder.status.quarantined_versions, want.component, want.held.fleet),
    )


def _end(
    run: ComponentRun, decision: Decision, forced: Forced | None, pending: Decision | None
) -> tuple[ComponentState, str] | None:
    """Where the pass ends without acting (the state and why), or None: act."""
    if decision.action is None:
        return decision.outcome, decision.reason
    if forced is not None and pending is None and decision.action not in forced.then:
        return decision.outcome, decision.reason
    if decision.action is Action.CORRECT and any(r.action is Action.CORRECT for r in run.actions):
        # Corrected once in this pass already, and it drifted again at once: another party
        # keeps changing it. Said, and left to the next event.
        return ComponentState.DRIFTED, f"{decision.reason}; it drifted again after a correction"
    return None


def _look(
    ctx: EngineContext, want: Wanted, observed: ObservedRelease, record: ComponentStatus | None
) -> LiveState | None:
    """What the cluster holds of ``observed`` after an action, where it can change the
    judgement: only of a revision verified already (one not verified yet, or failed, is
    verified or remediated whatever its objects are, and the look after that verification
    sees them)."""
    if ctx.live is None or verified_here(record, observed) is not True:
        return None
    return look_live(ctx.live, [(want, observed)])[0]


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

    def settle(state: ComponentState, message: str, *, recorded: bool = False) -> ComponentRun:
        run.state, run.message = state, message
        if tracked and not recorded:
            recorder.state(component, state, message)
        return run

    observed, fresh, live = want.first, False, want.live
    pending = forced.decision if forced is not None else None
    for _ in range(step_budget(desired) + 1):
        record = recorder.component(component) if tracked else None
        if pending is not None:
            decision = pending
        else:
            classification, decision = want.judge(
                observed, record, platform=ctx.platform, now=ctx.clock(), live=live
            )
        if decision.action is not None and not fresh:
            observed, fresh = backend.store.observe(release, ctx.namespace, ctx.clock()), True
            continue
        if tracked:
            recorder.observed(component, desired, observed, decision, mode=backend.mode, live=live)
        if pending is None and classification.finding in _DRIFT:
            recorder.warn(component, _DRIFT[classification.finding], classification.reason)
        action = decision.action
        end = _end(run, decision, forced, pending)
        if end is not None or action is None:
            state, message = end or (decision.outcome, decision.reason)
            return settle(state, message, recorded=state is decision.outcome)
        step = Step(component, desired, observed, decision, backend, live=live, drift=want.drift)
        try:
            result = RUNNERS[action](ctx, step)
        except OutOfTime as error:
            # Too little of the invocation is left to start the action: nothing was begun, and
            # the next event resumes here.
            return settle(ComponentState.PROGRESSING, f"{error}; the next event continues")
        recorder.finished(component, desired, decision, result, track=tracked)
        run.actions.append(result)
        before, observed = observed, backend.store.observe(release, ctx.namespace, ctx.clock())
        live = _look(ctx, want, observed, recorder.component(component) if tracked else None)
        if pending is not None:
            pending = None
            if not result.ok:
                return settle(ComponentState.FAILED, result.message, recorded=True)
            want = _hold(recorder, want, forced, before, observed, run=run)
    return settle(
        ComponentState.PROGRESSING,
        "the step budget of this pass is spent; the next event continues",
    )

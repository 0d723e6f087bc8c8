"""One component, one step at a time: observe, classify, decide, act, and observe again, until
it is in sync, stalled, or the step budget or the invocation's deadline is spent. A failed
attempt is remediated and, while retries remain, tried again within the same pass."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..helm.releases import ObservedRelease
from ..values.spec.status import ComponentState
from .actions import RUNNERS, ActionResult, Step
from .context import EngineContext
from .decide import decide
from .desired import DesiredRelease
from .record import Recorder
from .state import State, classify


@dataclass
class ComponentRun:
    component: str
    state: ComponentState
    message: str
    actions: list[ActionResult] = field(default_factory=list)


def step_budget(desired: DesiredRelease | None) -> int:
    """Enough steps for every allowed attempt with its remediation and verification."""
    retries = desired.retries if desired is not None else 0
    return 6 + 4 * (retries + 1)


def reconcile_component(
    ctx: EngineContext,
    recorder: Recorder,
    component: str,
    release: str,
    desired: DesiredRelease | None,
    *,
    first: ObservedRelease,
    quarantined: frozenset[str],
) -> ComponentRun:
    """``first`` may come from the API server's cache (cheap, possibly a moment old): enough to
    find a component in sync, but any action is decided again on a fresh observation."""
    run = ComponentRun(component, "Progressing", "")
    observed, fresh = first, False
    for _ in range(step_budget(desired) + 1):
        record = recorder.component(component)
        classification = classify(
            desired,
            observed,
            record,
            platform=ctx.platform,
            quarantined=quarantined,
            now=ctx.clock(),
        )
        decision = decide(classification, desired, observed, record)
        if decision.action is not None and not fresh:
            observed, fresh = ctx.store.observe(release, ctx.namespace, ctx.clock()), True
            continue
        recorder.observed(component, desired, observed, decision)
        if classification.state is State.DRIFTED:
            recorder.warn(component, "Drifted", classification.reason)
        if decision.action is None:
            run.state, run.message = decision.outcome, decision.reason
            return run
        result = RUNNERS[decision.action](ctx, Step(component, desired, observed, decision))
        recorder.finished(component, desired, decision, result)
        run.actions.append(result)
        observed = ctx.store.observe(release, ctx.namespace, ctx.clock())
    run.message = "the step budget of this pass is spent; the next event continues"
    recorder.state(component, "Progressing", run.message)
    return run

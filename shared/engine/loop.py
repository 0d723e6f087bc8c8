"""One component, one step at a time: observe, classify, decide, act, and observe again, until
it is in sync, stalled, or the step budget or the invocation's deadline is spent. A failed
attempt is remediated and, while retries remain, tried again within the same pass."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..helm.releases import ObservedRelease
from ..values.spec.status import ComponentState, ComponentStatus
from .actions import RUNNERS, ActionResult, Step
from .backends import Backend
from .context import EngineContext
from .decide import Decision, decide
from .desired import DesiredRelease
from .errors import OutOfTime
from .record import Recorder
from .state import Classification, State, classify


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


@dataclass(frozen=True)
class Wanted:
    """A component: what it should be, what its release is now, and how it is made."""

    component: str
    release: str
    first: ObservedRelease
    """What the release was when the reconcile began (possibly from the API server's cache)."""
    desired: DesiredRelease | None
    """None when the component is no longer wanted."""
    quarantined: frozenset[str]
    backend: Backend
    after: Wanted | None = None
    """For the old form of a component switching modes: the new form, which must be in sync
    first."""
    quarantined_digests: Mapping[str, str] = field(default_factory=dict)
    """Content (chart, version and values) a rollback returned from, with why."""

    def judge(
        self,
        observed: ObservedRelease,
        record: ComponentStatus | None,
        *,
        platform: str,
        now: datetime,
    ) -> tuple[Classification, Decision]:
        """What ``observed`` is against what is wanted, and what to do about it: the one
        judgement a reconcile, its lock-free look and a plan all make."""
        classification = classify(
            self.desired,
            observed,
            record,
            platform=platform,
            quarantined=self.quarantined,
            now=now,
            quarantined_digests=self.quarantined_digests,
        )
        return classification, decide(classification, self.desired, observed, record)


def reconcile_component(ctx: EngineContext, recorder: Recorder, want: Wanted) -> ComponentRun:
    """``first`` may come from the API server's cache (cheap, possibly a moment old): enough to
    find a component in sync, but any action is decided again on a fresh observation."""
    component, release, desired, backend = want.component, want.release, want.desired, want.backend
    run = ComponentRun(component, "Progressing", "")
    observed, fresh = want.first, False
    for _ in range(step_budget(desired) + 1):
        # The old form of a switching component is judged on its own: the status record is
        # the new form's.
        record = recorder.component(component) if want.after is None else None
        classification, decision = want.judge(
            observed, record, platform=ctx.platform, now=ctx.clock()
        )
        if decision.action is not None and not fresh:
            observed, fresh = backend.store.observe(release, ctx.namespace, ctx.clock()), True
            continue
        if want.after is None:
            recorder.observed(component, desired, observed, decision, mode=backend.mode)
        if classification.state is State.DRIFTED:
            recorder.warn(component, "Drifted", classification.reason)
        if decision.action is None:
            run.state, run.message = decision.outcome, decision.reason
            return run
        step = Step(component, desired, observed, decision, backend)
        try:
            result = RUNNERS[decision.action](ctx, step)
        except OutOfTime as error:
            # Too little of the invocation is left to start the action: nothing was begun, and
            # the next event resumes here.
            run.message = f"{error}; the next event continues"
            if want.after is None:
                recorder.state(component, "Progressing", run.message)
            return run
        recorder.finished(component, desired, decision, result, track=want.after is None)
        run.actions.append(result)
        observed = backend.store.observe(release, ctx.namespace, ctx.clock())
    run.message = "the step budget of this pass is spent; the next event continues"
    if want.after is None:
        recorder.state(component, "Progressing", run.message)
    return run

"""Correct: the live objects of a release that drifted from what its current revision holds are
applied again (:mod:`..live.correct`: no Helm upgrade, no new revision), then checked as any
change is: its workloads ready, and gunj's probe. A correction is no change of the spec's: it
spends no retry and starts no bake window (an alert after it does not roll the release back)."""

from __future__ import annotations

import time

from ...kube.errors import ApiError, ApiUnavailable
from ..action import Action, ActionResult
from ..context import EngineContext
from ..live.correct import correct
from .step import Step
from .verify import serving


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired, observed, live = step.require_desired(), step.observed, step.live
    if ctx.live is None or live is None or not live.drifted:
        return ActionResult(Action.CORRECT, True, "nothing had drifted", observed.revision)
    release = ctx.live.release(observed, mode=step.backend.mode, settings=step.drift)
    if release is None:
        return ActionResult(Action.CORRECT, True, "nothing is deployed", observed.revision)
    timeout = ctx.operation_timeout(desired.budget.timeout, f"correction of {step.release}")
    deadline = time.monotonic() + timeout.total_seconds()
    ctx.progress(step.component, "correct: " + "; ".join(d.describe() for d in live.drifted))
    try:
        done = correct(ctx.live, release, live.drifted)
    except ApiUnavailable:
        raise
    except ApiError as error:
        return ActionResult(
            Action.CORRECT, False, ctx.redactor(f"correction refused: {error}"), observed.revision
        )
    passed, found, _ = serving(ctx, step, deadline)
    verdict = "; ".join(found) if passed else "not serving yet: " + "; ".join(found)
    return ActionResult(
        Action.CORRECT, True, ctx.redactor(f"{'; '.join(done)}; {verdict}"), observed.revision
    )

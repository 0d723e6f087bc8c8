"""Unlock: mark a pending revision failed once no Helm process can still be working on it
(the state said so: its recorded deadline passed, or it is older than any operation). The next
step sees a failed release and remediates it."""

from __future__ import annotations

from datetime import timedelta

from ...kube.errors import ApiConflict
from ..action import Action, ActionResult
from ..context import EngineContext
from .step import Step


def run(ctx: EngineContext, step: Step) -> ActionResult:
    observed = step.observed
    try:
        unlocked = step.backend.store.unlock(
            observed.name, observed.namespace, older_than=timedelta(0), now=ctx.clock()
        )
    except ApiConflict:  # a Helm process updated it meanwhile: alive after all
        return ActionResult(
            Action.UNLOCK, False, "the release changed while unlocking", observed.revision
        )
    if unlocked is None:
        return ActionResult(Action.UNLOCK, True, "nothing was pending any more", observed.revision)
    return ActionResult(
        Action.UNLOCK,
        True,
        f"revision {unlocked.revision} was left {unlocked.status.value} by a Helm process that "
        "did not finish; marked failed",
        unlocked.revision,
    )

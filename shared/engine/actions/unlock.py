"""Unlock: mark a pending revision failed once no Helm process can still be working on it
(the classification said so: the Helm process that wrote it has exited, its recorded deadline
passed, or it is older than any operation), and only that revision. The next step sees a failed
release and remediates it."""

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
            observed.name,
            observed.namespace,
            older_than=timedelta(0),
            now=ctx.clock(),
            revision=observed.revision,
            why=step.decision.reason,
        )
    except ApiConflict:  # a Helm process updated it meanwhile, or began another operation
        return ActionResult(
            Action.UNLOCK, False, "the release changed while unlocking", observed.revision
        )
    if unlocked is None:
        return ActionResult(Action.UNLOCK, True, "nothing was pending any more", observed.revision)
    return ActionResult(
        Action.UNLOCK,
        True,
        f"revision {unlocked.revision} was left {unlocked.status.value} by a Helm process that "
        f"did not finish ({step.decision.reason}); marked failed",
        unlocked.revision,
    )

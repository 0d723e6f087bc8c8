"""Rollback: a new revision with what an earlier (good) revision held. Helm 3 does not revert
what a killed upgrade already patched, so a release unlocked from a stuck upgrade is rolled back
too, not just marked failed."""

from __future__ import annotations

from ...errors import GunjError
from ...helm.releases import ReleaseState
from ..action import Action, ActionResult
from ..context import EngineContext
from ..settings import SettingsError
from .step import Step
from .uninstall import DEFAULT_TIMEOUT


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired, observed = step.desired, step.observed
    target = step.decision.rollback_to
    if target is None:
        raise ValueError("a rollback needs a target revision")
    budget = desired.budget if desired else None
    wanted = budget.timeout if budget else DEFAULT_TIMEOUT
    timeout = ctx.operation_timeout(wanted, f"rollback of {observed.name}")
    ctx.progress(step.component, f"rollback to revision {target}")
    try:
        step.backend.rollback(
            ctx, observed.name, target, timeout, budget.no_hooks if budget else False
        )
    except SettingsError:
        raise  # the engine cannot run Helm here: trying again in this pass cannot help
    except GunjError as error:
        after = step.backend.store.observe(observed.name, observed.namespace)
        if error.transient and after.state is not ReleaseState.FAILED:
            raise
        return ActionResult(Action.ROLLBACK, False, ctx.redactor(str(error)), after.revision)
    after = step.backend.store.observe(observed.name, observed.namespace)
    return ActionResult(
        Action.ROLLBACK,
        True,
        f"rolled back to revision {target} (now revision {after.revision})",
        after.revision,
    )

"""Uninstall: remove a release gunj made (a disabled component, a removed platform, or the
remediation of a failed first install)."""

from __future__ import annotations

from datetime import timedelta

from ..action import Action, ActionResult
from ..context import EngineContext
from .step import Step

DEFAULT_TIMEOUT = timedelta(minutes=5)


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired, observed = step.desired, step.observed
    ctx.progress(step.component, f"uninstall {observed.name}")
    wanted = desired.budget.timeout if desired else DEFAULT_TIMEOUT
    timeout = ctx.operation_timeout(wanted, f"uninstall of {observed.name}")
    step.backend.uninstall(
        ctx, observed.name, timeout, desired.budget.no_hooks if desired else False
    )
    return ActionResult(Action.UNINSTALL, True, f"release {observed.name} uninstalled")

"""Install: the first revision of a component's release."""

from __future__ import annotations

from ..action import Action, ActionResult
from ..context import EngineContext
from .change import run_change
from .step import Step


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired = step.require_desired()
    return run_change(ctx, Action.INSTALL, step, f"gunj: install {desired.describe()}")

"""Install: the first revision of a component's release."""

from __future__ import annotations

from ..context import EngineContext
from ..decide import Action
from .change import run_change
from .result import ActionResult
from .step import Step


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired = step.wanted()
    return run_change(ctx, Action.INSTALL, step, f"gunj: install {desired.describe()}")

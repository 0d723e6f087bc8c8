"""Install: the first revision of a component's release."""

from __future__ import annotations

from datetime import timedelta

from ...helm.models import ChartReference
from ..context import EngineContext
from ..decide import Action
from .change import run_change
from .result import ActionResult
from .step import Step


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired = step.wanted()

    def install(chart: ChartReference, labels: dict[str, str], timeout: timedelta) -> object:
        return ctx.helm.install(
            desired.release,
            chart,
            ctx.target,
            values=desired.values,
            timeout=timeout,
            wait=True,
            no_hooks=desired.budget.no_hooks,
            labels=labels,
            description=f"gunj: install {desired.describe()}",
        )

    return run_change(ctx, Action.INSTALL, desired, step.observed, install)

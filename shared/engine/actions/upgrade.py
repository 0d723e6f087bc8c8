"""Upgrade: a new revision with the spec's chart, version and complete values (Helm's
``--reset-values``: nothing lingers from an earlier revision)."""

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

    def upgrade(chart: ChartReference, labels: dict[str, str], timeout: timedelta) -> object:
        return ctx.helm.upgrade(
            desired.release,
            chart,
            ctx.target,
            values=desired.values,
            timeout=timeout,
            wait=True,
            no_hooks=desired.budget.no_hooks,
            labels=labels,
            description=f"gunj: upgrade to {desired.describe()} ({step.decision.reason})"[:500],
        )

    return run_change(ctx, Action.UPGRADE, desired, step.observed, upgrade)

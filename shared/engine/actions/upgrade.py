"""Upgrade: a new revision with the spec's chart, version and complete values (Helm's
``--reset-values``: nothing lingers from an earlier revision)."""

from __future__ import annotations

from ..action import Action, ActionResult
from ..context import EngineContext
from .change import run_change
from .step import Step


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired = step.require_desired()
    description = f"gunj: upgrade to {desired.describe()} ({step.decision.reason})"
    return run_change(ctx, Action.UPGRADE, step, description)

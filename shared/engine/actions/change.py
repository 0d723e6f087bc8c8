"""What install and upgrade share: the labels that mark the release as gunj's, the backend's
operation (Helm, or native mode's apply), and how a failure is read back from storage."""

from __future__ import annotations

from ...errors import GunjError
from ...helm.releases import DIGEST_LABEL, ReleaseState
from ..context import EngineContext
from ..decide import Action
from ..desired import DesiredRelease
from ..state import COMPONENT_LABEL, PLATFORM_LABEL
from .result import ActionResult
from .step import Step


def labels(ctx: EngineContext, desired: DesiredRelease) -> dict[str, str]:
    return {
        PLATFORM_LABEL: ctx.platform,
        COMPONENT_LABEL: desired.component,
        DIGEST_LABEL: desired.digest,
    }


def run_change(ctx: EngineContext, action: Action, step: Step, description: str) -> ActionResult:
    desired, before, backend = step.wanted(), step.observed, step.backend
    timeout = ctx.operation_timeout(desired.budget.timeout, f"{action} of {desired.release}")
    ctx.progress(desired.component, f"{action} {desired.describe()} (up to {timeout})")
    change = backend.install if action is Action.INSTALL else backend.upgrade
    try:
        change(ctx, desired, labels(ctx, desired), timeout, description[:500])
    except GunjError as error:
        message = ctx.redactor(str(error))
        after = backend.store.observe(desired.release, desired.namespace)
        wrote = (after.revision, after.status) != (before.revision, before.status)
        if wrote and after.state in {ReleaseState.FAILED, ReleaseState.LOCKED}:
            return ActionResult(action, False, message, after.revision, counts_as_failure=True)
        if error.transient:
            raise
        # Refused before anything was stored: the chart or values cannot work as they are.
        return ActionResult(
            action, False, message, after.revision, counts_as_failure=True, hopeless=True
        )
    after = backend.store.observe(desired.release, desired.namespace)
    return ActionResult(
        action, True, f"{desired.describe()} is revision {after.revision}", after.revision
    )

"""What install and upgrade share: the chart pulled into gunj's cache (Helm installs from the
local archive and never sees repository credentials), the labels that mark the release as
gunj's, and how a failure is read back from storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ...errors import GunjError
from ...helm.client import DEADLINE_LABEL
from ...helm.models import ChartReference
from ...helm.releases import DIGEST_LABEL, ObservedRelease, ReleaseState
from ..context import EngineContext
from ..decide import Action
from ..desired import DesiredRelease
from ..state import COMPONENT_LABEL, PLATFORM_LABEL
from .result import ActionResult

HelmChange = Callable[[ChartReference, dict[str, str], timedelta], object]


def labels(ctx: EngineContext, desired: DesiredRelease) -> dict[str, str]:
    return {
        PLATFORM_LABEL: ctx.platform,
        COMPONENT_LABEL: desired.component,
        DIGEST_LABEL: desired.digest,
    }


def run_change(
    ctx: EngineContext,
    action: Action,
    desired: DesiredRelease,
    before: ObservedRelease,
    change: HelmChange,
) -> ActionResult:
    timeout = ctx.operation_timeout(desired.budget.timeout, f"{action} of {desired.release}")
    pulled = ctx.charts.pull(desired.source, desired.version)
    ctx.progress(desired.component, f"{action} {desired.describe()} (up to {timeout})")
    try:
        change(pulled.reference(), labels(ctx, desired), timeout)
    except GunjError as error:
        message = ctx.redactor(str(error))
        after = ctx.store.observe(desired.release, desired.namespace)
        wrote = (after.revision, after.status) != (before.revision, before.status)
        if wrote and after.state in {ReleaseState.FAILED, ReleaseState.LOCKED}:
            return ActionResult(action, False, message, after.revision, counts_as_failure=True)
        if error.transient:
            raise
        # Refused before Helm stored anything: the chart or values cannot work as they are.
        return ActionResult(
            action, False, message, after.revision, counts_as_failure=True, hopeless=True
        )
    after = ctx.store.observe(desired.release, desired.namespace)
    return ActionResult(
        action, True, f"{desired.describe()} is revision {after.revision}", after.revision
    )


__all__ = ["DEADLINE_LABEL", "labels", "run_change"]

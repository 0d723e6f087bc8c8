"""What install and upgrade share: the labels that mark the release as gunj's, the backend's
operation (Helm, or native mode's apply), and how a failure is read back from storage."""

from __future__ import annotations

from ...errors import GunjError
from ...helm.errors import HelmTimeout, QuotaExceeded
from ...helm.releases import DIGEST_LABEL, ReleaseState
from ..backends.native import NativeTimeout
from ..context import EngineContext
from ..decide import Action
from ..desired import DesiredRelease
from ..settings import SettingsError
from ..state import COMPONENT_LABEL, PLATFORM_LABEL
from .result import ActionResult
from .step import Step

# Transient, since the cluster may manage next time, but a verdict on the change as much as a
# failed verification is, so a revision Helm recorded failed counts: the change did not come
# up in its time (Helm's wait or a hook, native mode's wait for the workloads), or it asks for
# more than the namespace's quota allows. Otherwise a change that can never fit would be tried
# again on every event instead of stalling once its retries are spent.
VERDICTS = (HelmTimeout, NativeTimeout, QuotaExceeded)


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
    except SettingsError:
        raise  # the engine cannot run Helm here: nothing was tried, nothing to count
    except GunjError as error:
        if error.transient and not isinstance(error, VERDICTS):
            # The API server unreachable, a namespace being deleted:
            # nothing said about the change, even when Helm recorded the revision failed. No
            # retry is spent; the event comes again, and the next pass deals with what Helm
            # left (a failed revision is rolled back, a pending one waits for its deadline).
            raise
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

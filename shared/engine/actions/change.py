"""What install and upgrade share: the labels that mark the release as gunj's, the backend's
change (Helm, or native mode's apply), and how a failure is read back from storage: whether it
counts against the retries is :mod:`..remediation`'s rule."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from ...errors import GunjError
from ...helm.releases import ObservedRelease, ReleaseState
from ...kube.errors import ApiConflict
from ...labels import COMPONENT_LABEL, DIGEST_LABEL, PLATFORM_LABEL
from ..action import Action, ActionResult
from ..admission import size_problem
from ..backends import Change
from ..collisions import collision_problem
from ..context import EngineContext
from ..desired import DesiredRelease
from ..errors import RefusedSpec
from ..remediation import blocked_reason, cannot_succeed, counts_against_retries
from ..settings import SettingsError
from .step import Step


def labels(ctx: EngineContext, desired: DesiredRelease) -> dict[str, str]:
    return {
        PLATFORM_LABEL: ctx.platform,
        COMPONENT_LABEL: desired.component,
        DIGEST_LABEL: desired.digest,
    }


def run_change(ctx: EngineContext, action: Action, step: Step, description: str) -> ActionResult:
    desired, before, backend = step.require_desired(), step.observed, step.backend
    if problem := size_problem(desired):
        # Checked when the spec came, and again here: a valuesFrom source may have grown.
        raise RefusedSpec(problem)
    timeout = ctx.operation_timeout(desired.budget.timeout, f"{action} of {desired.release}")
    if backend.mode == "helm" and (
        problem := collision_problem(ctx.access, ctx.helm, ctx.charts, desired, ctx.platform)
    ):
        # Before Helm runs: it would refuse the objects another release owns, or leave pods
        # no node can run, on every attempt.
        raise RefusedSpec(problem)
    ctx.progress(desired.component, f"{action} {desired.describe()} (up to {timeout})")
    change = Change(
        first=action is Action.INSTALL,
        labels=labels(ctx, desired),
        timeout=timeout,
        description=description[:500],
        previous=before.revision,
    )
    try:
        backend.change(ctx, desired, change)
    except SettingsError:
        raise  # the engine cannot run Helm here: nothing was tried, nothing to count
    except GunjError as error:
        if not counts_against_retries(error):
            # Nothing said about the change, even when Helm recorded the revision failed: the
            # event comes again, and the next pass deals with what Helm left (a failed
            # revision is rolled back, a pending one unlocked once its Helm is gone).
            raise
        message = ctx.redactor(str(error))
        after = backend.store.observe(desired.release, desired.namespace)
        if (blocked := blocked_reason(error)) is not None:
            return _blocked(ctx, action, step, after, ctx.redactor(blocked))
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


def _blocked(
    ctx: EngineContext, action: Action, step: Step, after: ObservedRelease, reason: str
) -> ActionResult:
    """The change was stopped because the cluster says it cannot come up. gunj's own Helm was
    stopped and has exited, so a revision it left pending (Helm 4 leaves it so on SIGTERM) has
    no process behind it: unlocked at once, for the remediation that follows. Hopeless: the
    same spec would be stopped the same way."""
    if after.state is ReleaseState.LOCKED and after.revision != step.observed.revision:
        with contextlib.suppress(ApiConflict):  # changed meanwhile: the next look sees how
            step.backend.store.unlock(
                after.name,
                after.namespace,
                older_than=timedelta(0),
                now=ctx.clock(),
                revision=after.revision,
                why="gunj stopped the Helm process that wrote it, which has exited",
            )
        after = step.backend.store.observe(after.name, after.namespace, ctx.clock())
    return ActionResult(
        action,
        False,
        cannot_succeed(reason),
        after.revision,
        counts_as_failure=True,
        hopeless=True,
        blocked=reason,
    )

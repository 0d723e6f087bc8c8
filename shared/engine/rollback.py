"""A rollback asked for from outside the reconcile loop (a person's ``gunj rollback``, or a
health alert): to the last good revision unless a revision is named, never to one that is not
older than the current revision, then verified like any change; what was rolled back from is
quarantined, so reconcile holds the component instead of upgrading it straight back: the chart
version, or, when the rollback kept the version and undid values alone (in native mode nearly
every change), that content by its digest."""

from __future__ import annotations

from collections.abc import Callable

from ..helm.releases import ReleaseState
from ..values.build import PlatformContext
from ..values.names import release_name
from ..values.plan import ComponentPlan, plan_component
from ..values.spec import ObservabilityPlatform
from ..values.spec.platform import API_VERSION, KIND
from .actions import RUNNERS, Step
from .alert_policy import good_before
from .context import EngineContext
from .decide import Action, Decision
from .desired import DesiredRelease
from .errors import NotFound
from .loop import ComponentRun
from .record import Recorder
from .resource import StoredPlatform


def platform_of(stored: StoredPlatform) -> ObservabilityPlatform:
    """The platform as the cluster stores it."""
    return ObservabilityPlatform.model_validate(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": stored.name, "namespace": stored.namespace},
            "spec": stored.spec,
        }
    )


def rollback_component(
    ctx: EngineContext,
    recorder: Recorder,
    stored: StoredPlatform,
    component: str,
    *,
    to_revision: int | None,
    reason: str,
    incident: str | None,
    desired_of: Callable[[ComponentPlan], DesiredRelease],
) -> ComponentRun:
    release = release_name(stored.name, component)
    record = recorder.component(component)
    backend = ctx.backend(record.mode if record else "helm")
    observed = backend.store.observe(release, stored.namespace, ctx.clock())
    if observed.state is ReleaseState.ABSENT or observed.revision is None:
        raise NotFound(f"{component} of {stored.namespace}/{stored.name} is not installed")
    target = to_revision or (good_before(record, observed.revision) if record else None)
    if target is None:
        raise NotFound(
            f"{component} has no good revision older than revision {observed.revision} to roll "
            "back to; name one"
        )
    if not 0 < target < observed.revision:
        return ComponentRun(
            component,
            "InSync" if target == observed.revision else "Stalled",
            f"revision {target} is not older than the current revision {observed.revision}; "
            "nothing to roll back",
        )
    platform = platform_of(stored)
    plan = plan_component(platform, component, PlatformContext.of(platform))
    desired = desired_of(plan)
    decision = Decision(
        Action.ROLLBACK, "Progressing", reason, remediation=True, rollback_to=target
    )
    run = ComponentRun(component, "Progressing", "")
    result = RUNNERS[Action.ROLLBACK](ctx, Step(component, desired, observed, decision, backend))
    recorder.finished(component, desired, decision, result)
    run.actions.append(result)
    if not result.ok:
        run.state, run.message = "Failed", result.message
        return run
    restored = backend.store.observe(release, stored.namespace, ctx.clock())
    verify = Decision(Action.VERIFY, "Progressing", "verify the restored revision")
    recorder.observed(component, desired, restored, verify, mode=backend.mode)
    checked = RUNNERS[Action.VERIFY](ctx, Step(component, desired, restored, verify, backend))
    recorder.finished(component, desired, verify, checked)
    run.actions.append(checked)
    from_version = observed.chart_version or ""
    if from_version and from_version != restored.chart_version:
        recorder.quarantine(component, from_version, reason=reason, incident=incident)
    elif observed.content_digest and observed.content_digest != restored.content_digest:
        # The version is the one restored, so quarantining it would hold what now runs: the
        # content rolled back from is held instead, while the spec asks for exactly that.
        recorder.quarantine(
            component,
            from_version,
            reason=reason,
            incident=incident,
            digest=observed.content_digest,
        )
    run.state = "InSync" if checked.ok else "Failed"
    run.message = (
        f"rolled back from revision {observed.revision} ({from_version}) to revision {target}; "
        f"now revision {restored.revision} ({restored.chart_version}): {checked.message}"
    )
    recorder.state(component, "Held" if checked.ok else "Failed", run.message)
    return run

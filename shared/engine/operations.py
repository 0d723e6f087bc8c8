"""What a person (or an alert) asks of a platform besides applying a spec: remove it, roll a
component back, lift a quarantine. Each runs under the platform's Lease
(:func:`.session.on_platform`) and ends in one outcome.

A rollback goes through the reconcile loop as a forced decision (:class:`.loop.Forced`): to the
last good revision unless a revision is named, never to one that is not older than the current
revision, then verified like any change; what was rolled back from is quarantined, so reconcile
holds the component instead of upgrading it straight back (:mod:`.quarantine`).
"""

from __future__ import annotations

from dataclasses import replace

from ..events.alerts import Alert
from ..helm.releases import ReleaseState
from ..values.names import release_name
from ..values.spec.status import ComponentState
from . import quarantine
from .action import Action
from .alert_policy import decide_on_alert
from .alert_target import Target
from .decide import forced_rollback
from .errors import NotFound
from .loop import ComponentRun, Forced, reconcile_component
from .outcome import Outcome, Result
from .parts import EngineParts
from .passes import run_components
from .remediation import rollback_target
from .request import Request
from .resource import delete_platform, platform_of
from .session import Session, on_platform
from .wanted import wanted_components


def uninstall(parts: EngineParts, namespace: str, name: str, request: Request) -> Outcome:
    """Remove every release the platform owns (and nothing else), then the object."""

    def work(session: Session) -> Outcome:
        recorder = session.recorder
        wanted = wanted_components(parts, recorder, None, session.stored)
        runs = run_components(session.ctx, recorder, wanted)
        left = [run for run in runs if run.state is not ComponentState.REMOVED]
        if left:
            recorder.persist(working=False)
            waiting = any(run.state.working for run in left)
            return session.outcome(
                "progressing" if waiting else "failed",
                "not every release could be removed: "
                + "; ".join(f"{run.component}: {run.message}" for run in left),
                runs,
            )
        delete_platform(parts.access, namespace, name)
        return session.outcome("removed", "every release of the platform was uninstalled", runs)

    # Asked again after it succeeded (a redelivered delete whose outcome was not published):
    # what was asked is done.
    gone = Outcome(
        "removed", f"platform {namespace}/{name} is not in {parts.cluster}: nothing to remove"
    )
    return on_platform(parts, namespace, name, request, work, missing=gone)


def rollback(
    parts: EngineParts,
    namespace: str,
    name: str,
    component: str,
    *,
    to_revision: int | None,
    request: Request,
) -> Outcome:
    """Roll a component back (to its last good revision unless told), verify what was
    restored, and quarantine what it was rolled back from."""

    def work(session: Session) -> Outcome:
        run = rollback_component(
            session, component, to_revision=to_revision, reason="rolled back by a person"
        )
        session.recorder.persist(working=False)
        return session.outcome(_result(run), run.message, [run])

    return on_platform(parts, namespace, name, request, work)


def roll_back_for_alert(
    parts: EngineParts, target: Target, alert: Alert, request: Request
) -> Outcome:
    """Judge a health alert about ``target`` once (the judgement is recorded in the platform's
    status, so a redelivery to any instance is a duplicate) and roll back when the policy says
    so (:mod:`.alert_policy`)."""

    def work(session: Session) -> Outcome:
        stored, recorder, component = session.stored, session.recorder, target.component
        handled = next((a for a in recorder.status.handled_alerts if a.key == alert.key), None)
        if handled is not None:
            return session.outcome(
                "duplicate",
                f"{alert.describe()} was judged already ({handled.outcome}): {handled.message}",
            )
        spec = platform_of(stored).spec.component(component)
        record = recorder.component(component)
        release = release_name(stored.name, component)
        store = parts.backends[record.mode if record else "helm"].store
        good = rollback_target(record, record.changed_revision) if record else None
        decision = decide_on_alert(
            alert,
            record if spec is not None and spec.enabled else None,
            bake_window=spec.remediation.bake_window if spec else "0s",
            now=session.ctx.clock(),
            good_chart_version=store.chart_version_of(release, stored.namespace, good)
            if good
            else None,
        )
        if decision.rollback_to is None:
            recorder.handled_alert(alert.key, component, "ignored", decision.reason)
            recorder.persist(working=False)
            return session.outcome("ignored", decision.reason)
        recorder.warn(component, "HealthAlert", decision.reason)
        run = rollback_component(
            session,
            component,
            to_revision=decision.rollback_to,
            reason=f"{alert.describe()} fired within the bake window",
            incident=alert.key,
        )
        result = _result(run)
        recorder.handled_alert(alert.key, component, result, run.message)
        recorder.persist(working=False)
        return session.outcome(result, f"{decision.reason}. {run.message}", [run])

    return on_platform(parts, target.namespace, target.platform, request, work)


def unquarantine(
    parts: EngineParts, namespace: str, name: str, component: str, version: str
) -> Outcome:
    """Lift what ``version`` names (:func:`.quarantine.named_by`): a chart version, with any
    content of it held, or one digest held."""

    def work(session: Session) -> Outcome:
        recorder = session.recorder
        lifted = recorder.lift_quarantine(component, version)
        if not lifted:
            raise NotFound(
                f"{component} {version} is not quarantined (neither a quarantined chart version "
                "nor a quarantined digest)"
            )
        recorder.persist(working=False)
        what = "; ".join(quarantine.describe(q) for q in lifted)
        recorder.events.emit(recorder.about, "Normal", "QuarantineLifted", f"{component}: {what}")
        return session.outcome(
            "ready", f"{component}: {what} may be applied again (at the next reconcile)"
        )

    return on_platform(parts, namespace, name, Request(), work)


def rollback_component(
    session: Session,
    component: str,
    *,
    to_revision: int | None,
    reason: str,
    incident: str | None = None,
) -> ComponentRun:
    """Roll ``component`` back through the loop, verify what was restored, and say what
    happened: InSync when the restored revision passed verification (the component is then
    held by the quarantine), Failed when the rollback or the verification failed."""
    parts, stored, recorder = session.parts, session.stored, session.recorder
    platform = platform_of(stored)
    if platform.spec.component(component) is None:
        raise NotFound(f"{component} is not in the spec of {stored.namespace}/{stored.name}")
    want = wanted_components(parts, recorder, platform, stored, only=component)[0]
    observed = want.backend.store.observe(want.release, stored.namespace, session.ctx.clock())
    if observed.state is ReleaseState.ABSENT or observed.revision is None:
        raise NotFound(f"{component} of {stored.namespace}/{stored.name} is not installed")
    try:
        decision = forced_rollback(
            recorder.component(component), observed.revision, to_revision, reason
        )
    except ValueError as error:
        raise NotFound(f"{component} has {error}") from None
    if decision.action is None:
        return ComponentRun(component, decision.outcome, decision.reason)
    forced = Forced(decision, hold=reason, incident=incident)
    run = reconcile_component(session.ctx, recorder, replace(want, first=observed), forced)
    rolled = run.actions[0] if run.actions else None
    checked = next((a for a in run.actions[1:] if a.action is Action.VERIFY), None)
    if rolled is None or not rolled.ok or checked is None:
        return run  # failed, or the invocation's time ran out before the verification
    restored = want.backend.store.observe(want.release, stored.namespace, session.ctx.clock())
    run.state = ComponentState.IN_SYNC if checked.ok else ComponentState.FAILED
    run.message = (
        f"rolled back from revision {observed.revision} ({observed.chart_version or ''}) to "
        f"revision {decision.rollback_to}; now revision {restored.revision} "
        f"({restored.chart_version}): {checked.message}"
    )
    held = ComponentState.HELD if checked.ok else ComponentState.FAILED
    recorder.state(component, held, run.message)
    return run


def _result(run: ComponentRun) -> Result:
    if run.state is ComponentState.IN_SYNC:
        return "rolled-back"
    return "progressing" if run.state.working else "failed"

"""What a person (or an alert) asks of a platform besides applying a spec: remove it, roll a
component back, lift a quarantine. Each runs under the platform's Lease
(:meth:`.platform.Reconciler.on_platform`) and ends in one outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..events.alerts import Alert
from ..values.names import release_name
from ..values.spec.status import QuarantinedVersion
from .alert_policy import decide_on_alert, good_before
from .alert_target import Target
from .context import EngineContext
from .errors import NotFound
from .outcome import Outcome, Result
from .record import Recorder
from .resource import StoredPlatform, delete_platform
from .rollback import platform_of, rollback_component
from .state import SHORT_DIGEST

if TYPE_CHECKING:
    from .platform import Reconciler, Request


def uninstall(engine: Reconciler, namespace: str, name: str, request: Request) -> Outcome:
    def work(stored: StoredPlatform, recorder: Recorder, ctx: EngineContext) -> Outcome:
        runs = engine.components(ctx, recorder, None, stored)
        left = [run for run in runs if run.state != "Removed"]
        if left:
            recorder.persist(working=False)
            waiting = any(run.state in {"Progressing", "Locked"} for run in left)
            return engine.outcome(
                "progressing" if waiting else "failed",
                "not every release could be removed: "
                + "; ".join(f"{run.component}: {run.message}" for run in left),
                platform=stored,
                generation=None,
                runs=runs,
                status=recorder.status,
            )
        delete_platform(engine.access, namespace, name)
        return engine.outcome(
            "removed",
            "every release of the platform was uninstalled",
            platform=stored,
            generation=None,
            runs=runs,
            status=recorder.status,
        )

    # Asked again after it succeeded (a redelivered delete whose outcome was not published):
    # what was asked is done.
    gone = Outcome(
        "removed", f"platform {namespace}/{name} is not in {engine.cluster}: nothing to remove"
    )
    return engine.on_platform(namespace, name, request, work, missing=gone)


def rollback(
    engine: Reconciler,
    namespace: str,
    name: str,
    component: str,
    *,
    to_revision: int | None,
    request: Request,
    reason: str = "rolled back by a person",
    incident: str | None = None,
) -> Outcome:
    def work(stored: StoredPlatform, recorder: Recorder, ctx: EngineContext) -> Outcome:
        run = rollback_component(
            ctx,
            recorder,
            stored,
            component,
            to_revision=to_revision,
            reason=reason,
            incident=incident,
            desired_of=lambda plan: engine.desired(plan, namespace, ()),
        )
        recorder.persist(working=False)
        result: Result = "rolled-back" if run.state == "InSync" else "failed"
        return engine.outcome(
            result,
            run.message,
            platform=stored,
            generation=None,
            runs=[run],
            status=recorder.status,
        )

    return engine.on_platform(namespace, name, request, work)


def unquarantine(
    engine: Reconciler, namespace: str, name: str, component: str, version: str
) -> Outcome:
    """Lift what ``version`` names (:meth:`.record.Recorder.lift_quarantine`): a chart version,
    with any content of it held, or one digest held."""
    from .platform import Request

    def work(stored: StoredPlatform, recorder: Recorder, ctx: EngineContext) -> Outcome:
        lifted = recorder.lift_quarantine(component, version)
        if not lifted:
            raise NotFound(
                f"{component} {version} is not quarantined (neither a quarantined chart version "
                "nor a quarantined digest)"
            )
        recorder.persist(working=False)
        what = "; ".join(_quarantined(q) for q in lifted)
        recorder.events.emit(recorder.about, "Normal", "QuarantineLifted", f"{component}: {what}")
        return engine.outcome(
            "ready",
            f"{component}: {what} may be applied again (at the next reconcile)",
            platform=stored,
            generation=None,
            status=recorder.status,
        )

    return engine.on_platform(namespace, name, Request(), work)


def _quarantined(entry: QuarantinedVersion) -> str:
    if entry.digest is None:
        return f"chart version {entry.chart_version}"
    return f"chart version {entry.chart_version} with digest {entry.digest[:SHORT_DIGEST]}"


def roll_back_for_alert(
    engine: Reconciler, target: Target, alert: Alert, request: Request
) -> Outcome:
    """Judge a health alert about ``target`` once (the judgement is recorded in the platform's
    status, so a redelivery to any instance is a duplicate) and roll back when the policy
    says so (:mod:`.alert_policy`)."""

    def work(stored: StoredPlatform, recorder: Recorder, ctx: EngineContext) -> Outcome:
        component = target.component
        handled = next((a for a in recorder.status.handled_alerts if a.key == alert.key), None)
        if handled is not None:
            return engine.outcome(
                "duplicate",
                f"{alert.describe()} was judged already ({handled.outcome}): {handled.message}",
                platform=stored,
                generation=None,
            )
        spec = platform_of(stored).spec.component(component)
        record = recorder.component(component)
        release = release_name(stored.name, component)
        store = ctx.backend(record.mode if record else "helm").store
        good = (
            good_before(record, record.changed_revision)
            if record and record.changed_revision
            else None
        )
        decision = decide_on_alert(
            alert,
            record if spec is not None and spec.enabled else None,
            bake_window=spec.remediation.bake_window if spec else "0s",
            now=ctx.clock(),
            good_chart_version=store.chart_version_of(release, stored.namespace, good)
            if good
            else None,
        )
        if decision.rollback_to is None:
            recorder.handled_alert(alert.key, component, "ignored", decision.reason)
            recorder.persist(working=False)
            return engine.outcome(
                "ignored",
                decision.reason,
                platform=stored,
                generation=None,
                status=recorder.status,
            )
        recorder.warn(component, "HealthAlert", decision.reason)
        run = rollback_component(
            ctx,
            recorder,
            stored,
            component,
            to_revision=decision.rollback_to,
            reason=f"{alert.describe()} fired within the bake window",
            incident=alert.key,
            desired_of=lambda plan: engine.desired(plan, stored.namespace, ()),
        )
        result: Result = "rolled-back" if run.state == "InSync" else "failed"
        recorder.handled_alert(alert.key, component, result, run.message)
        recorder.persist(working=False)
        return engine.outcome(
            result,
            f"{decision.reason}. {run.message}",
            platform=stored,
            generation=None,
            runs=[run],
            status=recorder.status,
        )

    return engine.on_platform(target.namespace, target.platform, request, work)

"""What a person (or an alert) asks of a platform besides applying a spec: remove it, roll a
component back, lift a quarantine. Each runs under the platform's Lease
(:meth:`.platform.Reconciler.on_platform`) and ends in one outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .context import EngineContext
from .errors import NotFound
from .outcome import Outcome, Result
from .record import Recorder
from .resource import StoredPlatform, delete_platform
from .rollback import rollback_component

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

    return engine.on_platform(namespace, name, request, work)


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
    from .platform import Request

    def work(stored: StoredPlatform, recorder: Recorder, ctx: EngineContext) -> Outcome:
        if not recorder.lift_quarantine(component, version):
            raise NotFound(f"{component} chart version {version} is not quarantined")
        recorder.persist(working=False)
        recorder.events.emit(
            recorder.about, "Normal", "QuarantineLifted", f"{component}: {version}"
        )
        return engine.outcome(
            "ready",
            f"{component} chart version {version} may be applied again (at the next reconcile)",
            platform=stored,
            generation=None,
            status=recorder.status,
        )

    return engine.on_platform(namespace, name, Request(), work)

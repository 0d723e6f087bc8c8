"""The platform's status as a reconcile goes, stored: each component's record updated from what
was observed and what each action did (the counters themselves are computed by
:mod:`.remediation`, quarantines by :mod:`.quarantine`), the last actions, Kubernetes Events on
the object, and the whole written back after every action, so a reconcile killed midway leaves
its progress (and its remediation counters) behind for the next one.

Every message passes the redactor before it is stored, sent or logged. Components reconciled at
the same time (:mod:`.passes`) share one recorder: each change to the status, and each write of
it, is made under its lock, one at a time, so no change is lost and each write holds every
change made before it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from ..helm.releases import ObservedRelease
from ..kube.events import EventRecorder, EventType, ObjectRef
from ..redaction import Redactor
from ..values.spec.status import Action as ActionEntry
from ..values.spec.status import (
    ComponentState,
    ComponentStatus,
    ConditionType,
    HandledAlert,
    PlatformStatus,
    QuarantinedVersion,
)
from ..values.spec.status import DriftedObject as DriftRecord
from . import quarantine
from .action import Action, ActionResult
from .conditions import set_condition, summarize
from .decide import Decision
from .desired import DesiredRelease
from .live.state import LiveState
from .quarantine import SHORT_DIGEST
from .remediation import after_action

log = logging.getLogger(__name__)
LAST_ACTIONS = 20
HANDLED_ALERTS = 50
EVENT_REASONS = {
    Action.INSTALL: ("Install", "InstallFailed"),
    Action.UPGRADE: ("Upgrade", "UpgradeFailed"),
    Action.VERIFY: ("Verify", "VerifyFailed"),
    Action.ROLLBACK: ("Rollback", "RollbackFailed"),
    Action.UNLOCK: ("Unlock", "UnlockFailed"),
    Action.UNINSTALL: ("Uninstall", "UninstallFailed"),
    Action.CORRECT: ("DriftCorrected", "DriftCorrectionFailed"),
}


P = ParamSpec("P")
R = TypeVar("R")


def _serialised(
    method: Callable[Concatenate[Recorder, P], R],
) -> Callable[Concatenate[Recorder, P], R]:
    """The method, run under the recorder's lock (one change to the status at a time)."""

    def under_lock(self: Recorder, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    under_lock.__name__, under_lock.__doc__ = method.__name__, method.__doc__
    return under_lock


class Recorder:
    def __init__(
        self,
        status: PlatformStatus,
        *,
        about: ObjectRef,
        events: EventRecorder,
        redactor: Redactor,
        persist: Callable[[PlatformStatus], None],
        clock: Callable[[], datetime],
        generation: int,
        paused: bool = False,
        silent: bool = False,
    ) -> None:
        """``silent``: send no Events (a look that may be repeated at once under the Lease)."""
        self.silent = silent
        self.status = status
        self.about = about
        self.events = events
        self.redactor = redactor
        self._persist = persist
        self.clock = clock
        self.generation = generation
        self.paused = paused
        self.taken: list[tuple[str, ActionResult]] = []
        self.lock = threading.RLock()
        """Held while the status is changed or written (:mod:`.passes` runs components on
        threads of their own)."""

    # --- reading -------------------------------------------------------------------------------

    def component(self, name: str) -> ComponentStatus | None:
        return self.status.components.get(name)

    # --- writing -------------------------------------------------------------------------------

    def _put(self, name: str, record: ComponentStatus | None) -> None:
        components = dict(self.status.components)
        if record is None:
            components.pop(name, None)
        else:
            components[name] = record
        self.status = self.status.model_copy(update={"components": components})

    @_serialised
    def observed(
        self,
        name: str,
        desired: DesiredRelease | None,
        observed: ObservedRelease,
        decision: Decision,
        *,
        mode: str,
        live: LiveState | None = None,
    ) -> None:
        """The component's record as things stand: what the release holds (made in ``mode``,
        also while a component no longer wanted is removed), the state, and, when its live
        objects were looked at, how they differ from it and which workloads are not ready."""
        record = self.component(name)
        if decision.outcome is ComponentState.REMOVED:
            self._put(name, None)
            return
        base = record or ComponentStatus.model_validate({"mode": mode})
        update: dict[str, object] = {
            "mode": mode,
            "fallback": base.fallback if mode == "native" else "",
            "state": decision.outcome,
            "message": self.redactor(decision.reason),
            "chart": observed.chart,
            "chart_version": observed.chart_version,
            "app_version": observed.app_version,
            "revision": observed.revision,
            "deployed_at": observed.deployed_at,
            "values_digest": observed.content_digest,
        }
        # What the last look found of the live objects: nothing claimed where none was made.
        found = live or LiveState()
        update |= {
            "drift": [
                DriftRecord.model_validate(
                    {"object": d.key.describe(), "change": d.change, "paths": d.paths[:10]}
                )
                for d in found.drifted[:20]
            ],
            "not_ready": self.redactor("; ".join(found.not_ready))[:1000],
        }
        self._put(name, base.model_copy(update=update))

    @_serialised
    def observed_absent(self, name: str) -> None:
        """A component neither wanted nor installed: nothing to record about it."""
        if name in self.status.components:
            self._put(name, None)

    @_serialised
    def fallback(self, component: str, reason: str) -> None:
        """Record that native mode stands in for Helm for a component, and why (with an
        Event), the first time."""
        record = self.component(component) or ComponentStatus.model_validate({"mode": "native"})
        if record.mode == "native" and record.fallback:
            return  # standing in already: the first reason is the one a person needs
        self.warn(component, "FallbackToNative", f"native mode stands in for Helm: {reason}")
        self._put(component, record.model_copy(update={"mode": "native", "fallback": reason}))

    @_serialised
    def unverified(self, component: str) -> None:
        """Forget what verification found for the component (what serves it changed)."""
        record = self.component(component)
        if record is not None:
            self._put(component, record.model_copy(update={"verified_revision": None}))

    def warn(self, component: str, reason: str, message: str) -> None:
        if self.silent:
            return
        self.events.emit(self.about, "Warning", reason, f"{component}: {message}")

    @_serialised
    def quarantine(
        self,
        component: str,
        version: str,
        *,
        reason: str,
        incident: str | None = None,
        digest: str | None = None,
    ) -> None:
        """Keep reconcile from applying ``version`` of ``component`` again, or with ``digest``
        only that content of it (until the spec asks for something else or a person lifts
        it)."""
        entries = quarantine.with_entry(
            self.status.quarantined_versions,
            component,
            version,
            reason=self.redactor(reason),
            since=self.clock(),
            incident=incident,
            digest=digest,
        )
        self.status = self.status.model_copy(update={"quarantined_versions": entries})
        what = f"chart version {version}"
        if digest is not None:
            what += f" with the values rolled back from (digest {digest[:SHORT_DIGEST]})"
        self.events.emit(self.about, "Warning", "Quarantined", f"{component}: {what}: {reason}")

    @_serialised
    def handled_alert(self, key: str, component: str, outcome: str, message: str) -> None:
        """Remember that an alert was judged, so no delivery of it is judged again."""
        entry = HandledAlert.model_validate(
            {
                "key": key[:300],
                "component": component,
                "time": self.clock(),
                "outcome": outcome,
                "message": self.redactor(message)[:500],
            }
        )
        kept = [a for a in self.status.handled_alerts if a.key != key][-(HANDLED_ALERTS - 1) :]
        self.status = self.status.model_copy(update={"handled_alerts": [*kept, entry]})

    @_serialised
    def lift_quarantine(self, component: str, what: str) -> list[QuarantinedVersion]:
        """Lift the quarantines of ``component`` that ``what`` names
        (:func:`.quarantine.named_by`); the entries lifted."""
        entries = self.status.quarantined_versions
        lifted = [q for q in entries if quarantine.named_by(q, component, what)]
        kept = [q for q in entries if not quarantine.named_by(q, component, what)]
        self.status = self.status.model_copy(update={"quarantined_versions": kept})
        return lifted

    @_serialised
    def state(self, name: str, state: ComponentState, message: str) -> None:
        record = self.component(name)
        if record is not None:
            update = {"state": state, "message": self.redactor(message)}
            self._put(name, record.model_copy(update=update))

    @_serialised
    def finished(
        self,
        name: str,
        desired: DesiredRelease | None,
        decision: Decision,
        result: ActionResult,
        *,
        track: bool = True,
    ) -> None:
        """Fold an action's result into the record (unless ``track`` is false: the old form of
        a switching component), the last actions and an Event; persist."""
        assert decision.action is not None  # noqa: S101 - only actions finish
        now = self.clock()
        message = self.redactor(result.message)
        if track:
            self._fold(name, desired, result, now)
        self._history(name, result, decision, now)
        self._conditions(name, decision, result, now)
        kind: EventType = "Normal" if result.ok and not decision.remediation else "Warning"
        reason = EVENT_REASONS[result.action][0 if result.ok else 1]
        self.taken.append((name, result))
        self.persist(working=True)  # first: the record matters more than the Event
        self.events.emit(self.about, kind, reason, f"{name}: {message}")

    def _fold(
        self, name: str, desired: DesiredRelease | None, result: ActionResult, now: datetime
    ) -> None:
        """An action's result, in the component's record (:func:`.remediation.after_action`)."""
        scrubbed = replace(result, message=self.redactor(result.message))
        if result.verification is not None:
            passed, found = result.verification
            scrubbed = replace(scrubbed, verification=(passed, self.redactor(found)))
        self._put(name, after_action(self.component(name), desired, scrubbed, now))

    def _history(self, name: str, result: ActionResult, decision: Decision, now: datetime) -> None:
        entry = ActionEntry.model_validate(
            {
                "time": now,
                "component": name,
                "action": result.action.value,
                "outcome": "succeeded" if result.ok else "failed",
                "message": self.redactor(result.message)[:500],
            }
        )
        actions = [*self.status.last_actions, entry][-LAST_ACTIONS:]
        self.status = self.status.model_copy(update={"last_actions": actions})

    def _conditions(
        self, name: str, decision: Decision, result: ActionResult, now: datetime
    ) -> None:
        conditions = list(self.status.conditions)
        text = f"{name}: {self.redactor(result.message)}"
        changed: list[tuple[ConditionType, str]] = []  # (condition, the verb of its reason)
        if result.action in {Action.INSTALL, Action.UPGRADE}:
            verb = "Install" if result.action is Action.INSTALL else "Upgrade"
            changed.append(("Released", verb))
        if decision.remediation:
            verb = "Rollback" if result.action is Action.ROLLBACK else "Uninstall"
            changed.append(("Remediated", verb))
        for condition, verb in changed:
            conditions = set_condition(
                conditions,
                condition,
                "True" if result.ok else "False",
                f"{verb}{'Succeeded' if result.ok else 'Failed'}",
                text,
                now=now,
                generation=self.generation,
            )
        self.status = self.status.model_copy(update={"conditions": conditions})

    @_serialised
    def persist(self, *, working: bool, only_if_changed: PlatformStatus | None = None) -> None:
        """Summarise and write the status (unless it equals ``only_if_changed``, the status
        the cluster has: an unchanged platform costs no write)."""
        self.status = summarize(
            self.status,
            now=self.clock(),
            generation=self.generation,
            paused=self.paused,
            working=working,
        )
        if only_if_changed is not None and self.status == only_if_changed:
            return
        self._persist(self.status)

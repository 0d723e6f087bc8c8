"""What to do about a classified component: every "should I act, retry or give up" rule lives
here, reading the counters :mod:`.remediation` keeps. Pure.

Remediation follows the spec's ``remediation``: a failed attempt counts against ``retries`` for
the desired digest it tried (:mod:`.remediation` says which failures count); a new digest (the
spec changed) starts from zero. A failed first install is uninstalled; a failed change is rolled
back to the last good revision (or uninstalled, with strategy ``uninstall``). Once the attempts
are spent the component is stalled for that digest: the same failing version is not tried
again, on any event, until the spec changes. A change the cluster said cannot come up (the
record's ``blocked``) spent them all at once; the component is stalled saying what the cluster
said, the spec's to change. Each pass may retry within itself, bounded by the loop's steps and
deadline.

A rollback asked for from outside the loop (a person, a health alert) is a decision too, made by
:func:`forced_rollback`, and runs through the same loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..helm.releases import ObservedRelease
from ..values.spec.status import ComponentState, ComponentStatus
from .action import Action
from .classify import Classification, Finding
from .desired import DesiredRelease
from .remediation import cannot_succeed, exhausted, failures, rollback_target


@dataclass(frozen=True)
class Decision:
    action: Action | None
    """None: nothing to do now; ``outcome`` says why."""
    outcome: ComponentState
    reason: str
    remediation: bool = False
    rollback_to: int | None = None


# Findings that need no desired release, and what each leads to.
_WITHOUT_DESIRED: dict[Finding, tuple[Action | None, ComponentState]] = {
    Finding.IN_SYNC: (None, ComponentState.IN_SYNC),
    Finding.GONE: (None, ComponentState.REMOVED),
    Finding.FOREIGN: (None, ComponentState.STALLED),
    Finding.LOCKED: (None, ComponentState.LOCKED),
    Finding.STALE_LOCK: (Action.UNLOCK, ComponentState.PROGRESSING),
    Finding.UNWANTED: (Action.UNINSTALL, ComponentState.PROGRESSING),
    Finding.NOT_READY: (None, ComponentState.DEGRADED),
}


def _last_failure(record: ComponentStatus | None) -> str:
    return f"; last failure: {record.last_failure}" if record and record.last_failure else ""


def _blocked(record: ComponentStatus | None, desired: DesiredRelease) -> str:
    """The cluster's reason this digest cannot come up, if an attempt at it found one."""
    if record is None or record.attempted_digest != desired.digest:
        return ""
    return record.blocked


def decide(  # noqa: PLR0911 - one answer per finding
    classification: Classification,
    desired: DesiredRelease | None,
    observed: ObservedRelease,
    record: ComponentStatus | None,
    *,
    correct_drift: bool = True,
) -> Decision:
    """``correct_drift``: the spec's drift detection corrects (else it only warns)."""
    finding, reason = classification.finding, classification.reason
    if finding in _WITHOUT_DESIRED:
        action, outcome = _WITHOUT_DESIRED[finding]
        return Decision(action, outcome, reason)
    if finding is Finding.OBJECTS_DRIFTED:
        if correct_drift:
            return Decision(Action.CORRECT, ComponentState.PROGRESSING, reason)
        return Decision(None, ComponentState.DRIFTED, f"{reason} (drift detection warns only)")
    verify_first = classification.verified is None
    if finding is Finding.QUARANTINED:
        if verify_first:
            return Decision(
                Action.VERIFY, ComponentState.PROGRESSING, f"{reason}; verify what runs"
            )
        return Decision(None, ComponentState.HELD, reason)
    assert desired is not None  # noqa: S101 - every other finding has a desired release
    spent = exhausted(record, desired)
    attempts = f"{failures(record, desired)} failed attempt(s), retries {desired.retries}"
    if finding is Finding.UNVERIFIED:
        return Decision(Action.VERIFY, ComponentState.PROGRESSING, reason)
    if finding in {Finding.FAILED, Finding.VERIFY_FAILED}:
        return _remediate(reason, desired, observed, record, spent)
    blocked = _blocked(record, desired) if spent else ""
    if finding is Finding.ABSENT:
        return _absent(reason, record, blocked, spent, attempts)
    # OUT_OF_SYNC or DRIFTED: upgrade, unless this digest has failed too often already; then
    # what runs (restored by a remediation) is verified, and the component stalls.
    if not spent:
        return Decision(Action.UPGRADE, ComponentState.PROGRESSING, reason)
    if verify_first:
        return Decision(Action.VERIFY, ComponentState.PROGRESSING, f"{reason}; verify what runs")
    if blocked:
        stall = f"{reason}; {cannot_succeed(blocked)}; the last good revision runs"
        return Decision(None, ComponentState.STALLED, stall)
    stall = f"{reason}; {attempts}: not tried again until the spec changes{_last_failure(record)}"
    return Decision(None, ComponentState.STALLED, stall)


def _absent(
    reason: str, record: ComponentStatus | None, blocked: str, spent: bool, attempts: str
) -> Decision:
    if blocked:
        # No retry can help: Stalled, saying what the cluster said, until the spec changes.
        return Decision(None, ComponentState.STALLED, f"not installed: {cannot_succeed(blocked)}")
    if spent:
        wait = f"not installed: {attempts}; waiting for a new spec{_last_failure(record)}"
        return Decision(None, ComponentState.FAILED, wait)
    return Decision(Action.INSTALL, ComponentState.PROGRESSING, reason)


def _remediate(
    reason: str,
    desired: DesiredRelease,
    observed: ObservedRelease,
    record: ComponentStatus | None,
    spent: bool,
) -> Decision:
    if record is not None and record.last_good_digest == observed.content_digest:
        return Decision(
            None,
            ComponentState.STALLED,
            f"{reason}; this is what the last good revision held: nothing older to return to",
        )
    target = rollback_target(record, observed.revision)
    if target is None:
        return Decision(
            Action.UNINSTALL,
            ComponentState.FAILED,
            f"{reason}; no earlier good revision: uninstalling",
            remediation=True,
        )
    if desired.strategy == "uninstall":
        return Decision(
            Action.UNINSTALL, ComponentState.FAILED, f"{reason}; uninstalling", remediation=True
        )
    note = "; retries spent" if spent else ""
    return Decision(
        Action.ROLLBACK,
        ComponentState.FAILED,
        f"{reason}; rolling back to revision {target}{note}",
        remediation=True,
        rollback_to=target,
    )


def forced_rollback(
    record: ComponentStatus | None, revision: int, to_revision: int | None, reason: str
) -> Decision:
    """A rollback a person or an alert asks for, from ``revision``: to ``to_revision``, else
    the newest verified revision older than it. Nothing to do (InSync or Stalled, saying why)
    when the target is not older than ``revision``; ValueError when there is none."""
    target = to_revision or rollback_target(record, revision)
    if target is None:
        raise ValueError(
            f"no good revision older than revision {revision} to roll back to; name one"
        )
    if not 0 < target < revision:
        outcome = ComponentState.IN_SYNC if target == revision else ComponentState.STALLED
        return Decision(
            None,
            outcome,
            f"revision {target} is not older than the current revision {revision}; "
            "nothing to roll back",
        )
    return Decision(
        Action.ROLLBACK, ComponentState.PROGRESSING, reason, remediation=True, rollback_to=target
    )

"""What to do about a classified component: every "should I act, retry or give up" rule lives
here, and nowhere else. Pure.

Remediation follows the spec's ``remediation``: a failed attempt (an install or upgrade Helm
recorded as failed, or a revision that failed verification) counts against ``retries`` for the
desired digest it tried; a new digest (the spec changed) starts from zero. A failed first install
is uninstalled; a failed change is rolled back to the last good revision (or uninstalled, with
strategy ``uninstall``). Once the attempts are spent the component is stalled for that digest:
the same failing version is not tried again, on any event, until the spec changes. Each pass
may retry within itself, bounded by the loop's steps and deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..helm.releases import ObservedRelease
from ..values.spec.status import ComponentState, ComponentStatus
from .desired import DesiredRelease
from .state import Classification, State


class Action(StrEnum):
    INSTALL = "install"
    UPGRADE = "upgrade"
    VERIFY = "verify"
    ROLLBACK = "rollback"
    UNLOCK = "unlock"
    UNINSTALL = "uninstall"


@dataclass(frozen=True)
class Decision:
    action: Action | None
    """None: nothing to do now; ``outcome`` says why."""
    outcome: ComponentState
    reason: str
    remediation: bool = False
    rollback_to: int | None = None


def failures(record: ComponentStatus | None, desired: DesiredRelease | None) -> int:
    """Failed attempts at the desired digest (attempts at another digest do not count)."""
    if record is None or desired is None or record.attempted_digest != desired.digest:
        return 0
    return record.failures


def exhausted(record: ComponentStatus | None, desired: DesiredRelease | None) -> bool:
    return desired is not None and failures(record, desired) > desired.retries


def rollback_target(record: ComponentStatus | None, observed: ObservedRelease) -> int | None:
    """The last good revision, when it is an older revision that still exists."""
    if record is None or record.last_good_revision is None or observed.revision is None:
        return None
    target = record.last_good_revision
    return target if 0 < target < observed.revision else None


# States that need no desired release, and what each leads to.
_WITHOUT_DESIRED: dict[State, tuple[Action | None, ComponentState]] = {
    State.IN_SYNC: (None, "InSync"),
    State.GONE: (None, "Removed"),
    State.FOREIGN: (None, "Stalled"),
    State.LOCKED: (None, "Locked"),
    State.STALE_LOCK: (Action.UNLOCK, "Progressing"),
    State.UNWANTED: (Action.UNINSTALL, "Progressing"),
}


def _last_failure(record: ComponentStatus | None) -> str:
    return f"; last failure: {record.last_failure}" if record and record.last_failure else ""


def decide(  # noqa: PLR0911 - one answer per state
    classification: Classification,
    desired: DesiredRelease | None,
    observed: ObservedRelease,
    record: ComponentStatus | None,
) -> Decision:
    state, reason = classification.state, classification.reason
    if state in _WITHOUT_DESIRED:
        action, outcome = _WITHOUT_DESIRED[state]
        return Decision(action, outcome, reason)
    verify_first = classification.verified is None
    if state is State.QUARANTINED:
        if verify_first:
            return Decision(Action.VERIFY, "Progressing", f"{reason}; verify what runs")
        return Decision(None, "Held", reason)
    assert desired is not None  # noqa: S101 - every other state has a desired release
    spent = exhausted(record, desired)
    attempts = f"{failures(record, desired)} failed attempt(s), retries {desired.retries}"
    if state is State.UNVERIFIED:
        return Decision(Action.VERIFY, "Progressing", reason)
    if state in {State.FAILED, State.VERIFY_FAILED}:
        return _remediate(reason, desired, observed, record, spent)
    if state is State.ABSENT:
        if spent:
            wait = f"not installed: {attempts}; waiting for a new spec{_last_failure(record)}"
            return Decision(None, "Failed", wait)
        return Decision(Action.INSTALL, "Progressing", reason)
    # OUT_OF_SYNC or DRIFTED: upgrade, unless this digest has failed too often already; then
    # what runs (restored by a remediation) is verified, and the component stalls.
    if not spent:
        return Decision(Action.UPGRADE, "Progressing", reason)
    if verify_first:
        return Decision(Action.VERIFY, "Progressing", f"{reason}; verify what runs")
    stall = f"{reason}; {attempts}: not tried again until the spec changes{_last_failure(record)}"
    return Decision(None, "Stalled", stall)


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
            "Stalled",
            f"{reason}; this is what the last good revision held: nothing older to return to",
        )
    target = rollback_target(record, observed)
    if target is None:
        return Decision(
            Action.UNINSTALL,
            "Failed",
            f"{reason}; no earlier good revision: uninstalling",
            remediation=True,
        )
    if desired.strategy == "uninstall":
        return Decision(Action.UNINSTALL, "Failed", f"{reason}; uninstalling", remediation=True)
    note = "; retries spent" if spent else ""
    return Decision(
        Action.ROLLBACK,
        "Failed",
        f"{reason}; rolling back to revision {target}{note}",
        remediation=True,
        rollback_to=target,
    )

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


def decide(  # noqa: PLR0911 - one answer per state, as the table reads
    classification: Classification,
    desired: DesiredRelease | None,
    observed: ObservedRelease,
    record: ComponentStatus | None,
) -> Decision:
    state, reason = classification.state, classification.reason
    if state in {State.IN_SYNC, State.GONE}:
        return Decision(None, "InSync" if state is State.IN_SYNC else "Removed", reason)
    if state is State.FOREIGN:
        return Decision(None, "Stalled", reason)
    if state is State.QUARANTINED:
        return Decision(None, "Held", reason)
    if state is State.LOCKED:
        return Decision(None, "Locked", reason)
    if state is State.STALE_LOCK:
        return Decision(Action.UNLOCK, "Progressing", reason)
    if state is State.UNWANTED:
        return Decision(Action.UNINSTALL, "Progressing", reason)
    assert desired is not None  # noqa: S101 - every other state has a desired release
    spent = exhausted(record, desired)
    attempts = f"{failures(record, desired)} failed attempt(s), retries {desired.retries}"
    if state is State.ABSENT:
        if spent:
            return Decision(None, "Stalled", f"not installed: {attempts}; waiting for a new spec")
        return Decision(Action.INSTALL, "Progressing", reason)
    if state is State.UNVERIFIED:
        return Decision(Action.VERIFY, "Progressing", reason)
    if state in {State.FAILED, State.VERIFY_FAILED}:
        return _remediate(reason, desired, observed, record, spent)
    # OUT_OF_SYNC or DRIFTED: upgrade, unless this digest has failed too often already.
    if spent:
        return Decision(
            None,
            "Stalled",
            f"{reason}; {attempts}: not tried again until the spec changes",
        )
    return Decision(Action.UPGRADE, "Progressing", reason)


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

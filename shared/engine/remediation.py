"""Remediation accounting, beside the decision that reads it (:mod:`.decide`). Pure.

- **What counts.** A failed attempt counts against ``spec.<component>.remediation.retries`` for
  the desired digest it tried: Helm recorded the install or upgrade failed, or verification
  failed. A change that did not come up in its time, or asks for more than the namespace's quota
  allows, counts too, though its error is transient (:func:`counts_against_retries`). What
  says nothing about the change (the API server unreachable, a namespace being deleted) does not.
  A refusal before anything was stored (the chart does not render) spends every retry at once,
  and so does a change the cluster says cannot come up without a person (a pod no node will
  take, a storage class that does not exist: :func:`blocked_reason`), whose reason is kept
  (``blocked``) to say what to change.
- **The counters.** :func:`after_action` computes a component's next record from the current
  one, the desired digest and an action's result: failures at a digest (a new digest starts from
  zero), the verified revisions (the rollback targets), when gunj last changed the component (the
  start of the bake window), and what verification found.
- **Where to return to.** :func:`rollback_target`: the newest verified revision older than the
  current one, for the loop's remediation, a person's ``gunj rollback`` and an alert alike.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import GunjError
from ..helm.errors import HelmBlocked, HelmTimeout, QuotaExceeded
from ..values.spec.status import ComponentStatus
from .action import Action, ActionResult
from .desired import DesiredRelease
from .errors import NativeBlocked, NativeTimeout

GOOD_REVISIONS = 10
"""Verified revisions kept per component (rollback targets)."""


# Transient, since the cluster may manage next time, but a verdict on the change as much as a
# failed verification is: the change did not come up in its time (Helm's wait or a hook, native
# mode's wait for the workloads), or it asks for more than the namespace's quota allows.
# Otherwise a change that can never fit would be tried again on every event instead of stalling
# once its retries are spent.
_VERDICTS = (HelmTimeout, NativeTimeout, QuotaExceeded)


def counts_against_retries(error: GunjError) -> bool:
    """Whether a change that failed with ``error`` was tried, and so may count as a failed
    attempt: every permanent error, and the transient ones that are a verdict on the change.
    Any other transient error (the API server unreachable, a namespace being deleted) says
    nothing about the change: no retry is spent, and the event comes again."""
    return not error.transient or isinstance(error, _VERDICTS)


def blocked_reason(error: GunjError) -> str | None:
    """The cluster's reason, when ``error`` says a change was stopped because it cannot come up
    without a person (Helm's wait or native mode's); None for any other failure."""
    if isinstance(error, HelmBlocked | NativeBlocked):
        return error.reason or str(error)
    return None


def cannot_succeed(reason: str) -> str:
    """What a component's status says of a change the cluster will not let come up."""
    return f"this spec cannot succeed as it is; the cluster says it cannot come up: {reason}"


def failures(record: ComponentStatus | None, desired: DesiredRelease | None) -> int:
    """Failed attempts at the desired digest (attempts at another digest do not count)."""
    if record is None or desired is None or record.attempted_digest != desired.digest:
        return 0
    return record.failures


def exhausted(record: ComponentStatus | None, desired: DesiredRelease | None) -> bool:
    return desired is not None and failures(record, desired) > desired.retries


def rollback_target(record: ComponentStatus | None, revision: int | None) -> int | None:
    """The newest revision older than ``revision`` that passed verification, if any."""
    if record is None or revision is None:
        return None
    older = [r for r in record.good_revisions if 0 < r < revision]
    last = record.last_good_revision
    if not older and last is not None and 0 < last < revision:
        older = [last]
    return max(older) if older else None


def after_action(
    record: ComponentStatus | None,
    desired: DesiredRelease | None,
    result: ActionResult,
    now: datetime,
) -> ComponentStatus | None:
    """The component's record after ``result`` (None: nothing is left to record, a component
    no longer wanted was uninstalled). ``result.message`` is taken as it is: scrub it first."""
    record = record or ComponentStatus.model_validate({"mode": "helm"})
    update: dict[str, object] = {}
    if result.action.changes_content and result.ok:
        update |= {"last_changed": now, "changed_revision": result.revision}
    if result.action is Action.ROLLBACK and result.ok:
        update |= _rolled_back(record)
    if result.action is Action.CORRECT and result.ok:
        # Not a change of the spec's: the bake window of the last change ends here, and no
        # retry is spent or reset (the release is what the spec asks for).
        update |= {"last_corrected": now}
    if result.counts_as_failure and desired is not None:
        previous = record.failures if record.attempted_digest == desired.digest else 0
        count = desired.retries + 1 if result.hopeless else previous + 1
        update |= {
            "failures": max(count, previous + 1),
            "attempted_digest": desired.digest,
            "blocked": result.blocked,
        }
    elif (
        result.action.changes_content
        and desired is not None
        and record.attempted_digest != desired.digest
    ):
        update |= {"failures": 0, "attempted_digest": desired.digest, "blocked": ""}
    if result.verification is not None:
        update |= _verified(record, *result.verification)
    if not result.ok:
        update |= {"message": result.message, "last_failure": f"{result.action}: {result.message}"}
    if result.action is Action.UNINSTALL and result.ok:
        if desired is None:
            return None
        # A remediation uninstall: the counters stay, the release facts go.
        update |= {
            "revision": None,
            "deployed_at": None,
            "chart_version": None,
            "app_version": None,
            "values_digest": None,
            "tested": False,
            "verified_revision": None,
            "last_good_revision": None,
            "last_good_digest": None,
            "good_revisions": [],
        }
    return record.model_copy(update=update)


def _rolled_back(record: ComponentStatus) -> dict[str, object]:
    """A return to a verified revision is not a change for an alert to undo, and the revision
    left behind is no rollback target any more: it was rolled back from."""
    good = [r for r in record.good_revisions if r != record.revision]
    update: dict[str, object] = {"good_revisions": good}
    if record.last_good_revision == record.revision:
        update |= {
            "last_good_revision": max(good) if good else None,
            "last_good_digest": None,  # verifying the restored revision sets it
        }
    return update


def _verified(record: ComponentStatus, passed: bool, found: str) -> dict[str, object]:
    update: dict[str, object] = {
        "tested": passed,
        "tests": found,
        "verified_revision": record.revision,
    }
    if passed and record.revision is not None:
        good = [r for r in record.good_revisions if r != record.revision]
        update |= {
            "last_good_revision": record.revision,
            "last_good_digest": record.values_digest,
            "good_revisions": [*good, record.revision][-GOOD_REVISIONS:],
        }
    return update

"""Whether a health alert rolls a component back: the one place this is decided. Pure.

A firing alert rolls back the last change gunj made to the component when it fired within the
component's bake window (``remediation.bakeWindow``) after that change, and a last good revision
exists that is older than the change. Never further back than the last good revision; a rollback
that crosses a change of the chart's major version says so. Resolved alerts, alerts outside the
window, alerts that began before the change, alerts about a change that was rolled back
already, and alerts after gunj corrected drifted live objects (which ends the window) change
nothing, and the decision says why. A rollback is no change for an alert to undo:
it returns to a verified revision, and the revision it left is no rollback target any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..events.alerts import Alert
from ..values.durations import duration_of
from ..values.spec.status import ComponentStatus
from ..versions import InvalidVersion, parse_version
from .remediation import rollback_target

# How much earlier than gunj's change an alert may say it began and still be judged as after
# it: Cloud Monitoring gives an incident's start in whole seconds, and the monitoring system's
# clock is not the function's.
START_TOLERANCE = timedelta(seconds=5)


@dataclass(frozen=True)
class AlertDecision:
    rollback_to: int | None
    reason: str


def bake_window_of(bake_window: str) -> timedelta:
    """A spec's bake window (``remediation.bakeWindow``) as a length of time."""
    return duration_of(bake_window)


def _major(version: str | None) -> int | None:
    try:
        return parse_version(version).major if version else None
    except InvalidVersion:
        return None


def decide_on_alert(  # noqa: PLR0911 - every refusal says why
    alert: Alert,
    record: ComponentStatus | None,
    *,
    bake_window: str,
    now: datetime,
    good_chart_version: str | None,
) -> AlertDecision:
    if not alert.firing:
        return AlertDecision(None, f"{alert.describe()} is resolved: nothing to do")
    if record is None or record.revision is None:
        return AlertDecision(None, "the component is not installed: nothing to roll back")
    if record.last_changed is None or record.changed_revision is None:
        return AlertDecision(None, "gunj has not changed the component: nothing to roll back")
    window = bake_window_of(bake_window)
    fired = alert.started_at or now
    since = fired - record.last_changed
    if since < -START_TOLERANCE:
        return AlertDecision(
            None,
            f"{alert.describe()} began {_ago(-since)} before gunj's last change "
            f"(revision {record.changed_revision}): not caused by it",
        )
    if since > window:
        return AlertDecision(
            None,
            f"{alert.describe()} fired {_ago(since)} after gunj's last change "
            f"(revision {record.changed_revision}), outside the bake window of {bake_window}",
        )
    corrected = record.last_corrected
    if corrected is not None and corrected > record.last_changed and fired >= corrected:
        # The bake window of a change ends when gunj puts drifted objects back: a correction is
        # no change of the spec's, and what the alert sees may be the drift, not the change.
        return AlertDecision(
            None,
            f"{alert.describe()} fired after gunj corrected the component's drifted objects "
            f"({_ago(fired - corrected)} after), which ends the bake window of its last change "
            f"(revision {record.changed_revision}): the release is not rolled back",
        )
    if record.revision != record.changed_revision:
        return AlertDecision(
            None,
            f"revision {record.revision} is not the one gunj's change made "
            f"(revision {record.changed_revision}): that change was rolled back or replaced "
            "already, nothing to undo",
        )
    good = rollback_target(record, record.changed_revision)
    if good is None:
        return AlertDecision(
            None,
            f"no revision older than gunj's change (revision {record.changed_revision}) passed "
            "verification: nothing to return to",
        )
    crossing = ""
    now_major, good_major = _major(record.chart_version), _major(good_chart_version)
    if now_major is not None and good_major is not None and now_major != good_major:
        crossing = (
            f"; this crosses from chart major {now_major} back to {good_major}: check that "
            "the older major reads the data the newer one wrote"
        )
    return AlertDecision(
        good,
        f"{alert.describe()} fired {_ago(since)} after gunj changed the component to revision "
        f"{record.changed_revision} (within {bake_window}): rolling back to the last good "
        f"revision {good}{crossing}",
    )


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60}s"
    return f"{seconds}s"

"""When a health alert rolls a component back, as a table: within the bake window after gunj's
change and with an older verified revision, it does; otherwise nothing changes, and the reason
says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.engine.alert_policy import decide_on_alert
from shared.events.alerts import Alert, parse_alerts
from shared.values.spec.status import ComponentStatus

CHANGED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def alert(firing: bool = True, after: timedelta | None = timedelta(minutes=5)) -> Alert:
    return Alert(
        source="alertmanager",
        key="alert:fp:now",
        firing=firing,
        name="PrometheusNotReady",
        started_at=CHANGED + after if after is not None else None,
    )


def record(**fields: Any) -> ComponentStatus:
    return ComponentStatus.model_validate(
        {
            "mode": "helm",
            "revision": 5,
            "chartVersion": "29.27.0",
            "changedRevision": 5,
            "lastChanged": CHANGED,
            "goodRevisions": [3, 5],
            "lastGoodRevision": 5,
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("what", "the_alert", "the_record", "target", "reason"),
    [
        (
            "fired soon after the change",
            alert(),
            record(),
            3,
            "rolling back to the last good revision 3",
        ),
        (
            "fired after the window",
            alert(after=timedelta(hours=1)),
            record(),
            None,
            "outside the bake window of 30m",
        ),
        (
            "began before the change",
            alert(after=-timedelta(minutes=1)),
            record(),
            None,
            "before gunj's last change",
        ),
        (
            "began within the same second (a start given in whole seconds)",
            alert(after=-timedelta(milliseconds=900)),
            record(),
            3,
            "rolling back",
        ),
        ("resolved", alert(firing=False), record(), None, "resolved"),
        (
            "no older verified revision",
            alert(),
            record(goodRevisions=[5]),
            None,
            "no revision older than gunj's change",
        ),
        (
            "never changed by gunj",
            alert(),
            record(lastChanged=None, changedRevision=None),
            None,
            "has not changed",
        ),
        (
            "the change was rolled back already",
            alert(),
            record(revision=6, goodRevisions=[3, 6], lastGoodRevision=6),
            None,
            "rolled back or replaced already",
        ),
        (
            "fired after gunj corrected drifted objects, within the window",
            alert(after=timedelta(minutes=5)),
            record(lastCorrected=CHANGED + timedelta(minutes=4)),
            None,
            "fired after gunj corrected the component's drifted objects",
        ),
        (
            "fired before a later correction",
            alert(after=timedelta(minutes=2)),
            record(lastCorrected=CHANGED + timedelta(minutes=4)),
            3,
            "rolling back",
        ),
        ("not installed", alert(), None, None, "not installed"),
        ("no start time: judged now", alert(after=None), record(), 3, "rolling back"),
    ],
)
def test_an_alert_is_judged_by_the_bake_window_and_the_verified_revisions(
    what: str,
    the_alert: Alert,
    the_record: ComponentStatus | None,
    target: int | None,
    reason: str,
) -> None:
    decision = decide_on_alert(
        the_alert,
        the_record,
        bake_window="30m",
        now=CHANGED + timedelta(minutes=6),
        good_chart_version="29.26.0",
    )

    assert decision.rollback_to == target, decision.reason
    assert reason in decision.reason


def test_a_rollback_across_a_major_says_so() -> None:
    decision = decide_on_alert(
        alert(), record(), bake_window="1h", now=CHANGED, good_chart_version="28.9.1"
    )

    assert decision.rollback_to == 3
    assert "crosses from chart major 29 back to 28" in decision.reason


def test_each_alert_of_a_group_is_judged_on_its_own() -> None:
    group = {
        "version": "4",
        "status": "firing",
        "commonLabels": {"gunj_cluster": "local"},
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "A"},
                "fingerprint": "1",
                "startsAt": "2026-11-25T12:01:00Z",
            },
            {
                "status": "resolved",
                "labels": {"alertname": "B", "gunj_cluster": "other"},
                "fingerprint": "2",
                "startsAt": "2026-11-25T11:00:00Z",
            },
        ],
    }

    first, second = parse_alerts(group)

    assert (first.firing, first.labels["gunj_cluster"], first.key) == (
        True,
        "local",
        "alert:1:2026-11-25T12:01:00Z",
    )
    assert (second.firing, second.labels["gunj_cluster"]) == (False, "other")

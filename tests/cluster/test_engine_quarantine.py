"""Quarantine of values on the local cluster, with Helm 3 and Helm 4: a change of values alone
(the chart version stays) that an alert or a person rolls back is not upgraded straight back.
The spec asking for exactly that content is held; a spec asking for anything else goes through;
``unquarantine`` lifts it by its digest, or by its chart version as before."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.cli.platforms import print_status
from shared.engine.alert_target import Target
from shared.engine.resource import read_platform
from shared.events.alerts import parse_alerts
from shared.telemetry.figures import figures
from tests.engine_support import SMALL_PROMETHEUS, Engine, platform

VERSION = SMALL_PROMETHEUS["chartVersion"]


def test_values_rolled_back_are_held_until_the_spec_changes_or_the_quarantine_is_lifted(
    engine: Engine, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS)).result == "ready"
    bad = platform(namespace, prometheus={**SMALL_PROMETHEUS, "scrapeInterval": "45s"})
    assert engine.apply(bad).components[0].actions == ("upgrade", "verify")
    record = engine.status(namespace).components["prometheus"]
    bad_digest, changed = record.values_digest, record.last_changed
    assert bad_digest is not None and changed is not None
    starts = (changed + timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "PrometheusNotReady"},
                "startsAt": starts,
                "fingerprint": "fp-values",
            }
        ],
    }
    alert = parse_alerts(json.dumps(payload))[0]
    target = Target("local", namespace, "obs", "prometheus", "labels")

    rolled = engine.reconciler.roll_back_for_alert(target, alert)

    assert rolled.result == "rolled-back", rolled
    # What it returned from was quarantined between the rollback and its verification; the
    # outcome's figures (its log line's) count a rollback and a quarantine of prometheus.
    assert rolled.components[0].actions == ("rollback", "quarantine", "verify")
    counted = figures("rollback", rolled.to_json())
    assert (counted["rolled_back"], counted["quarantined"]) == ("prometheus", "prometheus")
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (3, VERSION)
    quarantined = engine.status(namespace).quarantined_versions
    assert [(q.component, q.chart_version, q.digest) for q in quarantined] == [
        ("prometheus", VERSION, bad_digest)
    ]
    assert quarantined[0].incident == alert.key
    engine.helm_runs()

    # The spec still asks for the values rolled back from: held, not upgraded straight back.
    held = engine.apply(bad)

    assert held.result == "stalled", held
    assert held.components[0].actions == ()
    assert not [line for line in engine.helm_runs() if line.startswith("upgrade")]
    assert engine.release(namespace, "obs-prometheus").revision == 3
    stalled = {c.type: c for c in engine.status(namespace).conditions}["Stalled"]
    short = bad_digest[:12]
    assert stalled.reason == "Held"
    assert "with the values a rollback returned from" in stalled.message
    assert f"gunj unquarantine {namespace}/obs prometheus {short}" in stalled.message
    stored = read_platform(engine.access, namespace, "obs")
    assert stored is not None
    print_status(stored)
    assert f"quarantined: prometheus {VERSION} values {short} since" in capsys.readouterr().out

    # Any other spec goes through.
    fixed = platform(namespace, prometheus={**SMALL_PROMETHEUS, "scrapeInterval": "50s"})
    applied = engine.apply(fixed)
    assert applied.result == "ready", applied
    assert applied.components[0].actions == ("upgrade", "verify")
    assert engine.release(namespace, "obs-prometheus").revision == 4
    # ...and going back to exactly the quarantined content is held again.
    assert engine.apply(bad).result == "stalled"
    assert engine.release(namespace, "obs-prometheus").revision == 4

    # A person's rollback of a values change quarantines that content too.
    assert engine.reconciler.rollback(namespace, "obs", "prometheus").result == "rolled-back"
    digests = [q.digest for q in engine.status(namespace).quarantined_versions]
    assert len(digests) == 2 and digests[0] == bad_digest

    # Lifted by the digest gunj status shows: that one only.
    assert engine.reconciler.unquarantine(namespace, "obs", "prometheus", short).result == "ready"
    assert [q.digest for q in engine.status(namespace).quarantined_versions] == digests[1:]
    twice = engine.reconciler.unquarantine(namespace, "obs", "prometheus", short)
    assert twice.result == "error" and f"{short} is not quarantined" in twice.message
    # By the chart version, as before: every quarantine of it, values included.
    lifted = engine.reconciler.unquarantine(namespace, "obs", "prometheus", VERSION)
    assert lifted.result == "ready"
    assert engine.status(namespace).quarantined_versions == []
    again = engine.apply(bad)
    assert again.result == "ready", again
    assert again.components[0].actions == ("upgrade", "verify")

"""An outcome's figures (what its log line carries for the log-based metrics) and the
Prometheus exposition made of them: names, results and actions only, hostile documents
included, and the metrics under the names the Terraform module gives them."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from shared.engine.outcome import ComponentReport, Outcome
from shared.localstack.exporter import Figures
from shared.telemetry.figures import figures
from shared.telemetry.metrics import DURATION_BUCKETS, METRICS

SECRET = "hunter2-token-value"


def rolled_back() -> dict[str, Any]:
    return Outcome(
        "rolled-back",
        f"rolled back (alert said token={SECRET})",
        platform="team/obs",
        cluster="prod",
        components=(
            ComponentReport(
                "prometheus",
                "InSync",
                f"token={SECRET}",
                actions=("rollback", "quarantine", "verify"),
            ),
            ComponentReport("loki", "InSync", "put back", actions=("correct", "verify")),
        ),
        duration=12.0,
    ).to_json()


def test_the_figures_of_a_rollback_name_components_and_actions_only() -> None:
    found = figures("rollback", rolled_back())

    assert found == {
        "function": "rollback",
        "result": "rolled-back",
        "cluster": "prod",
        "platform": "team/obs",
        "components": "loki,prometheus",
        "actions": "correct,quarantine,rollback,verify",
        "rolled_back": "prometheus",
        "corrected": "loki",
        "quarantined": "prometheus",
        "duration": 12.0,
    }


def test_a_stalled_or_failed_platform_is_flagged_with_its_stuck_components() -> None:
    for result in ("stalled", "failed"):
        document = Outcome(
            result,
            "retries spent",
            components=(ComponentReport("grafana", "Stalled", "x"),),
        ).to_json()
        found = figures("reconcile", document)
        assert (found["stalled"], found["stuck"]) == ("true", "grafana")
    assert "stalled" not in figures("reconcile", Outcome("ready", "ok").to_json())


def test_hostile_documents_give_bounded_figures_without_their_text() -> None:
    hostile: dict[str, Any] = {
        "result": "ready\nseverity=CRITICAL",
        "platform": "../../etc/passwd",
        "cluster": "c" * 100_000,
        "duration": "NaN",
        "components": [
            {"component": f"x {SECRET}\n", "actions": ["rollback"], "state": "Stalled"},
            {"component": ["list"], "actions": "rollback"},
            "not a component",
        ],
    }

    found = figures("reconcile", hostile)

    # The one well-formed action is kept; no name, result or text of the document is.
    assert found == {"function": "reconcile", "result": "error", "actions": "rollback"}
    for duration in (float("inf"), float("nan"), -1, True):
        assert "duration" not in figures("reconcile", {"duration": duration})
    assert figures("reconcile", {"components": {"a": 1}, "duration": True}) == {
        "function": "reconcile",
        "result": "error",
    }


def exposition(counted: Figures) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    families = text_string_to_metric_families(counted.exposition().decode())
    return {f.name: [(s.name, s.labels, s.value) for s in f.samples] for f in families}


def value(
    found: dict[str, list[tuple[str, dict[str, str], float]]], name: str, **labels: str
) -> float:
    """The value of the one sample ``name`` with exactly these labels."""
    [matching] = [v for f in found.values() for n, tags, v in f if n == name and tags == labels]
    return matching


def test_the_exposition_has_every_metric_under_its_name_with_the_figures_as_labels() -> None:
    counted = Figures()
    data = json.dumps(rolled_back()).encode()

    assert counted.count_message(data, {"function": "rollback", "result": "rolled-back"})
    assert counted.count_message(data, {"function": "rollback", "result": "rolled-back"})

    text = counted.exposition().decode()
    assert SECRET not in text
    found = exposition(counted)
    # The parser names a counter's family without _total; its samples keep it.
    assert set(found) == {m.name.removesuffix("_total") for m in METRICS}
    names = {sample for samples in found.values() for sample, _, _ in samples}
    assert {"gunj_reconcile_duration_seconds_bucket", "gunj_rollbacks_total"} <= names
    assert not any(name.endswith("_created") for name in names)
    place = {"cluster": "prod", "platform": "team/obs"}
    assert (
        value(found, "gunj_rollbacks_total", **place, function="rollback", component="prometheus")
        == 2
    )
    assert value(found, "gunj_quarantines_total", **place, component="prometheus") == 2
    assert value(found, "gunj_drift_corrections_total", **place, component="loki") == 2
    reconciles = {"function": "rollback", "result": "rolled-back", "cluster": "prod"}
    assert value(found, "gunj_reconciles_total", **reconciles, components="loki,prometheus") == 2
    buckets = [
        labels["le"]
        for name, labels, _ in found["gunj_reconcile_duration_seconds"]
        if name.endswith("_bucket")
    ]
    assert buckets == [*(str(b) for b in DURATION_BUCKETS), "+Inf"]
    assert not any(name == "gunj_stalled_total" for name in names)


def test_messages_that_are_no_outcome_are_not_counted() -> None:
    counted = Figures()

    assert not counted.count_message(b"not json", {})
    assert not counted.count_message(b"[1, 2]", {})
    assert not counted.count_message(json.dumps({"kind": "report"}).encode(), {})
    assert not counted.count_message(b" " * (2 << 20), {})
    names = {s for samples in exposition(counted).values() for s, _, _ in samples}
    assert not any(name.startswith("gunj_reconciles_total") for name in names)

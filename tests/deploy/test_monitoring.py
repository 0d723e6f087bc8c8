"""The module's log-based metrics, dashboard and alert policy, checked against what the
functions write: the line a handler logs for an outcome is made into the LogEntry Cloud Run
makes of it, and each metric's filter and label extractors (from the parsed HCL, with the
module's defaults put in) are evaluated on it. The metrics are the ones `gunj serve` exposes
(shared/telemetry/metrics.py), under the same names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared.engine.outcome import ComponentReport, Outcome
from shared.handlers import outcomes, reconcile
from shared.handlers.outcomes import Publisher, report
from shared.handlers.topics import Topics
from shared.telemetry.metrics import DURATION_BUCKETS, METRICS
from tests.deploy import logging_query
from tests.deploy.test_terraform import FUNCTIONS, MODULE, local, parse, resources
from tests.unit.test_handler_unexpected_errors import ENV, SPEC, PubSub, event, log_lines

PREFIX = "gunj"  # var.name_prefix's default
SECRET = "hunter2-token-value"


@pytest.fixture
def pubsub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> PubSub:
    """The functions' publisher, publishing to a client that keeps what it is given (the
    real publisher's tests use the emulator)."""
    client = PubSub()
    publisher = Publisher(Topics.from_environment(ENV))
    publisher._client = client
    monkeypatch.setitem(outcomes._PUBLISHERS, publisher.topics, publisher)
    monkeypatch.setenv("GUNJ_CACHE_DIR", str(tmp_path / "cache"))
    return client


@pytest.fixture(scope="module")
def module() -> dict[str, list[Any]]:
    return parse(MODULE)


def variables(module: dict[str, list[Any]]) -> dict[str, Any]:
    return {name: spec for block in module["variable"] for name, spec in block.items()}


def render(text: str, module: dict[str, list[Any]], key: str = "", when: str = "") -> str:
    """An expression of the module with the default name prefix, the locals it names and
    ``each.key``/``each.value.when`` put in: plain text, or the test fails."""
    assert local(module, "metric_prefix") == '${replace(var.name_prefix, "-", "_")}'
    assert local(module, "outcome_services") == '${join("|", sort(keys(local.functions)))}'
    assert set(local(module, "functions")) == set(FUNCTIONS)
    text = text.replace("${local.outcome_filter}", local(module, "outcome_filter"))
    text = text.replace("${local.outcome_services}", "|".join(sorted(FUNCTIONS)))
    text = text.replace("${var.name_prefix}", PREFIX).replace("${local.metric_prefix}", PREFIX)
    text = text.replace("${each.key}", key).replace("${each.value.when}", when)
    assert "${" not in text, text
    return text.replace('\\"', '"')


def defined(module: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """Each log-based metric as Cloud Logging gets it: name, filter, label extractors, kind."""
    metrics = resources(module, "google_logging_metric")
    counters = metrics["counters"]
    assert counters["for_each"] == "${local.counters}"
    assert counters["label_extractors"] == (
        "${{for label, figure in each.value.labels : label => "
        '"EXTRACT(jsonPayload.telemetry.${figure})"}}'
    )
    found = {}
    for key, counter in local(module, "counters").items():
        name = render(counters["name"], module, key=key)
        found[name] = {
            "filter": render(counters["filter"], module, key=key, when=counter["when"]),
            "labels": {
                label: f"EXTRACT(jsonPayload.telemetry.{figure})"
                for label, figure in counter["labels"].items()
            },
            "descriptor": counters["metric_descriptor"][0],
            "value": None,
        }
    duration = metrics["duration"]
    assert duration["label_extractors"] == (
        "${{for label, figure in local.duration_labels : label => "
        '"EXTRACT(jsonPayload.telemetry.${figure})"}}'
    )
    found[render(duration["name"], module)] = {
        "filter": render(duration["filter"], module),
        "labels": {
            label: f"EXTRACT(jsonPayload.telemetry.{figure})"
            for label, figure in local(module, "duration_labels").items()
        },
        "descriptor": duration["metric_descriptor"][0],
        "value": duration["value_extractor"],
        "buckets": duration["bucket_options"][0]["exponential_buckets"][0],
    }
    return found


def entry_of(line: dict[str, Any], service: str = f"{PREFIX}-reconcile") -> dict[str, Any]:
    return logging_query.log_entry(
        line, {"type": "cloud_run_revision", "labels": {"service_name": service}}
    )


def counted(module: dict[str, list[Any]], entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The metrics that count ``entry``, each with its labels' values."""
    return {
        name: {
            label: logging_query.extract(extractor, entry)
            for label, extractor in metric["labels"].items()
        }
        for name, metric in defined(module).items()
        if logging_query.matches(metric["filter"], entry)
    }


def test_the_log_based_metrics_are_the_ones_served_at_metrics(
    module: dict[str, list[Any]],
) -> None:
    metrics = defined(module)

    assert set(metrics) == {m.name for m in METRICS}
    for metric in METRICS:
        made = metrics[metric.name]
        assert made["labels"] == {
            label: f"EXTRACT(jsonPayload.telemetry.{figure})"
            for label, figure in metric.labels.items()
        }, metric.name
        assert made["filter"].endswith(f" AND jsonPayload.telemetry.{metric.when}:*")
        kind = made["descriptor"]["value_type"]
        assert kind == ("DISTRIBUTION" if metric.kind == "histogram" else "INT64"), metric.name
    duration = metrics["gunj_reconcile_duration_seconds"]
    assert duration["value"] == "EXTRACT(jsonPayload.telemetry.duration)"
    buckets = duration["buckets"]
    bounds = [buckets["scale"] * buckets["growth_factor"] ** i for i in range(13)]
    assert buckets["num_finite_buckets"] + 1 == len(DURATION_BUCKETS)
    assert tuple(bounds) == DURATION_BUCKETS


def test_an_invalid_spec_counts_as_one_reconcile_of_that_result(
    module: dict[str, list[Any]], pubsub: PubSub, capsys: pytest.CaptureFixture[str]
) -> None:
    reconcile.handle(event("spec: [", cluster="prod"), ENV)

    [line] = log_lines(capsys.readouterr().out)
    entry = entry_of(line)
    assert counted(module, entry) == {
        "gunj_reconciles_total": {
            "function": "reconcile",
            "result": "invalid",
            "cluster": "prod",
            "components": None,
        },
        "gunj_reconcile_duration_seconds": {"function": "reconcile", "result": "invalid"},
    }
    duration = defined(module)["gunj_reconcile_duration_seconds"]["value"]
    assert isinstance(logging_query.extract(duration, entry), float)
    # Another service's lines, or a line that is no outcome, count nowhere.
    assert counted(module, entry_of(line, service="other-reconcile")) == {}
    assert counted(module, entry_of({"severity": "INFO", "message": "hello"})) == {}


def test_a_rollback_that_quarantined_counts_as_a_rollback_and_a_quarantine(
    module: dict[str, list[Any]], pubsub: PubSub, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported as the rollback function reports it, with the outcome the engine gives a
    rollback from an alert (tests/cluster/test_engine_quarantine.py checks the engine's)."""
    outcome = Outcome(
        "rolled-back",
        f"rolled back; the alert said password={SECRET}",
        platform="team/obs",
        cluster="prod",
        components=(
            ComponentReport(
                "prometheus",
                "InSync",
                "rolled back from revision 2",
                actions=("rollback", "quarantine", "verify"),
            ),
        ),
        duration=3.5,
    )

    report("rollback", outcome.to_json(), env=ENV)

    captured = capsys.readouterr().out
    [line] = log_lines(captured)
    assert counted(module, entry_of(line, f"{PREFIX}-rollback")) == {
        "gunj_reconciles_total": {
            "function": "rollback",
            "result": "rolled-back",
            "cluster": "prod",
            "components": "prometheus",
        },
        "gunj_reconcile_duration_seconds": {"function": "rollback", "result": "rolled-back"},
        "gunj_rollbacks_total": {
            "function": "rollback",
            "cluster": "prod",
            "platform": "team/obs",
            "component": "prometheus",
        },
        "gunj_quarantines_total": {
            "cluster": "prod",
            "platform": "team/obs",
            "component": "prometheus",
        },
    }
    assert SECRET not in json.dumps(line["telemetry"])


def test_drift_corrected_and_stalled_components_count_by_component(
    module: dict[str, list[Any]],
    pubsub: PubSub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcome = Outcome(
        "stalled",
        "a component cannot progress",
        platform="team/obs",
        cluster="prod",
        components=(
            ComponentReport("loki", "InSync", "put back", actions=("correct", "verify")),
            ComponentReport("grafana", "Stalled", "retries spent", actions=("upgrade failed",)),
            ComponentReport("tempo", "Held", "quarantined version asked for"),
        ),
    )
    monkeypatch.setattr(reconcile, "reconciler", lambda *_: Engine(outcome))

    reconcile.handle(event(SPEC, cluster="prod"), ENV)

    [line] = log_lines(capsys.readouterr().out)
    found = counted(module, entry_of(line))
    assert found["gunj_reconciles_total"]["components"] == "grafana,loki,tempo"
    assert found["gunj_drift_corrections_total"] == {
        "cluster": "prod",
        "platform": "team/obs",
        "component": "loki",
    }
    assert found["gunj_stalled_total"] == {
        "cluster": "prod",
        "platform": "team/obs",
        "result": "stalled",
        "component": "grafana,tempo",
    }
    assert "gunj_rollbacks_total" not in found and "gunj_quarantines_total" not in found


class Engine:
    """The engine's place in the handler: answers every spec with one outcome."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    def apply(self, *_: object) -> Outcome:
        return self.outcome


def test_the_alert_fires_on_platforms_stalled_for_the_configured_time(
    module: dict[str, list[Any]],
) -> None:
    policy = resources(module, "google_monitoring_alert_policy")["stalled"]
    threshold = policy["conditions"][0]["condition_threshold"][0]
    settings = variables(module)

    assert threshold["filter"] == (
        'metric.type=\\"${local.metric_types["stalled_total"]}\\" AND '
        'resource.type=\\"cloud_run_revision\\"'
    )
    assert local(module, "metric_types") == (
        '${{for name in concat(keys(local.counters), ["reconcile_duration_seconds"]) : '
        'name => "logging.googleapis.com/user/${local.metric_prefix}_${name}"}}'
    )
    assert (threshold["comparison"], threshold["threshold_value"]) == ("COMPARISON_GT", 0)
    assert threshold["duration"] == "${var.stalled_alert_after_minutes * 60}s"
    assert settings["stalled_alert_after_minutes"]["default"] == 30
    # A window of two resync intervals always holds a stalled platform's latest outcome.
    aggregation = threshold["aggregations"][0]
    assert aggregation["alignment_period"] == "${var.resync_interval_minutes * 2 * 60}s"
    assert aggregation["group_by_fields"] == ["metric.label.cluster", "metric.label.platform"]
    # A person's channels, never the rollback function's.
    assert policy["notification_channels"] == "${var.stalled_alert_notification_channels}"
    assert settings["stalled_alert_notification_channels"]["default"] == []


def test_the_dashboard_charts_every_metric(module: dict[str, list[Any]]) -> None:
    dashboard = resources(module, "google_monitoring_dashboard")["gunj"]["dashboard_json"]

    charted = set(re.findall(r'metric = "([a-z_]+)"', dashboard))
    assert {f"gunj_{name}" for name in charted} == {m.name for m in METRICS}

"""gunj's metrics at ``/metrics`` on the local stack: the exporter `gunj serve` starts counts the
outcomes a served function publishes to ``platform-events`` on the real emulator, and serves
them in Prometheus's text format under the names of the Terraform module's log-based metrics.
An outcome published while the exporter is down waits on its subscription and is counted when
it is back. A real reconcile's log line counts in the module's log-based metrics as its outcome
does at /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from shared.localstack import serving
from shared.localstack.exporter import SUBSCRIPTION
from shared.localstack.processes import Daemon
from shared.localstack.stack import Stack
from shared.telemetry.metrics import METRICS
from tests.deploy import test_monitoring as monitoring
from tests.deploy.test_terraform import MODULE, parse
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.engine_support import SMALL_PROMETHEUS

SPEC = """
apiVersion: observability.io/v1beta1
kind: ObservabilityPlatform
metadata: {name: obs, namespace: team-a}
spec:
  prometheus: {}
"""


@pytest.fixture
def reconcile(local_stack: Stack, tmp_path: Path) -> Iterator[ServedFunction]:
    clusters = registry_file(local_stack, tmp_path)
    with served_function(
        "reconcile", local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
    ) as served:
        yield served


@pytest.fixture
def exporter(reconcile: ServedFunction, tmp_path: Path) -> Iterator[str]:
    port = serving.start_metrics(tmp_path, reconcile.env)
    yield f"http://127.0.0.1:{port}/metrics"
    Daemon(serving.METRICS, tmp_path).stop()


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def wait_for(
    url: str, name: str, labels: dict[str, str], value: float
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    deadline = time.monotonic() + 120
    while True:
        found = samples(url)
        if found.get((name, frozenset(labels.items()))) == value:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name}{labels} = {value} at {url}: {found}")
        time.sleep(0.5)


def test_the_outcomes_of_a_served_function_are_counted_at_metrics(
    reconcile: ServedFunction, exporter: str, tmp_path: Path
) -> None:
    reconcile.publish("spec: [", cluster="local")
    reconcile.publish(SPEC, cluster="nowhere")
    reconcile.publish("spec: [", cluster="local")

    invalid = {"function": "reconcile", "result": "invalid", "cluster": "local", "components": ""}
    found = wait_for(exporter, "gunj_reconciles_total", invalid, 2)
    refused = {**invalid, "result": "refused", "cluster": "nowhere"}
    found = wait_for(exporter, "gunj_reconciles_total", refused, 1)
    durations = {"function": "reconcile", "result": "invalid"}
    assert found[("gunj_reconcile_duration_seconds_count", frozenset(durations.items()))] == 2
    # Every metric of the module is there, by its name, before anything counts in it.
    text = requests.get(exporter, timeout=10).text
    for metric in METRICS:
        assert f"# TYPE {metric.name} {metric.kind}" in text

    # Down, then back: what was published meanwhile waited on the exporter's subscription.
    Daemon(serving.METRICS, tmp_path).stop()
    reconcile.publish(SPEC, cluster="nowhere")
    port = int((tmp_path / serving.METRICS_FILE).read_text())
    serving.start_metrics(tmp_path, reconcile.env, port)

    wait_for(exporter, "gunj_reconciles_total", refused, 1)


def test_the_exporter_subscribes_again_when_the_emulator_lost_its_subscription(
    reconcile: ServedFunction, exporter: str
) -> None:
    """The emulator keeps nothing across a restart: the exporter's subscription is gone, and
    it makes it again, counting what is published afterwards."""
    from google.api_core import exceptions
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(
        reconcile.topics.project, reconcile.topics.name(SUBSCRIPTION)
    )
    subscriber.delete_subscription(subscription=path)
    deadline = time.monotonic() + 60
    while True:
        try:
            subscriber.get_subscription(subscription=path)
            break
        except exceptions.NotFound:
            assert time.monotonic() < deadline, "the exporter did not subscribe again"
            time.sleep(0.5)

    reconcile.publish("spec: [", cluster="local")

    invalid = {"function": "reconcile", "result": "invalid", "cluster": "local", "components": ""}
    wait_for(exporter, "gunj_reconciles_total", invalid, 1)


def test_a_real_reconcile_counts_the_same_in_the_log_based_metrics_and_at_metrics(
    reconcile: ServedFunction, exporter: str, namespace: str
) -> None:
    """A platform applied by the served function: the line it logs, as Cloud Logging would
    read it, counts in the module's metrics with the same labels /metrics shows."""
    document = yaml.safe_dump(
        {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": "obs", "namespace": namespace},
            "spec": {"prometheus": SMALL_PROMETHEUS},
        }
    )
    message_id = reconcile.publish(document, cluster="local")
    outcome = reconcile.final(message_id)
    assert outcome["result"] == "ready", outcome

    [line] = [
        entry
        for entry in reconcile.log_lines()
        if entry.get("message_id") == message_id and entry.get("result") == "ready"
    ]
    logged = monitoring.counted(parse(MODULE), monitoring.entry_of(line))
    labels = logged["gunj_reconciles_total"]
    assert labels == {
        "function": "reconcile",
        "result": "ready",
        "cluster": "local",
        "components": "prometheus",
    }
    assert set(logged) == {"gunj_reconciles_total", "gunj_reconcile_duration_seconds"}
    wait_for(exporter, "gunj_reconciles_total", labels, 1)

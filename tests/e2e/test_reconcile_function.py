"""The reconcile function end to end: a spec published to Pub/Sub comes up in the local
cluster, every outcome is reported on platform-events, poison messages are acknowledged, and
transient problems are delivered again until they pass."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.engine.resource import read_platform
from shared.helm.releases import ReleaseStore
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.engine_support import SMALL_PROMETHEUS, SMALL_TEMPO

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def spec(namespace: str, **components: Any) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": "obs", "namespace": namespace},
            "spec": components,
        }
    )


@pytest.fixture
def reconcile(local_stack: Stack, tmp_path: Path) -> Iterator[ServedFunction]:
    """The function with Helm 3 (the engine's tests cover both majors; these cover delivery)."""
    clusters = registry_file(local_stack, tmp_path)
    with served_function(
        "reconcile", local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
    ) as served:
        yield served


def revisions(cluster: ClusterAccess, namespace: str) -> dict[str, int | None]:
    return {
        name: observed.revision
        for name, observed in ReleaseStore(cluster).observe_namespace(namespace).items()
    }


def test_a_published_spec_comes_up_ready_and_is_reported(
    reconcile: ServedFunction, namespace: str, cluster: ClusterAccess
) -> None:
    minimal = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
    minimal["metadata"]["namespace"] = namespace

    message_id = reconcile.publish(yaml.safe_dump(minimal), cluster="local", source="git:abc")
    outcome = reconcile.final(message_id)

    assert outcome["result"] == "ready", outcome
    assert outcome["platform"] == f"{namespace}/obs" and outcome["cluster"] == "local"
    assert outcome["source"] == "git:abc" and outcome["duration"] > 0
    assert {c["component"]: c["actions"] for c in outcome["components"]} == {
        name: ["install", "verify"] for name in ("prometheus", "loki", "grafana")
    }
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.status.phase == "Ready"
    logged = [line for line in reconcile.log_lines() if line.get("message_id") == message_id]
    assert logged and logged[-1]["severity"] == "INFO" and logged[-1]["result"] == "ready"


def test_a_delete_removes_the_platform_and_a_redelivered_delete_is_done_already(
    reconcile: ServedFunction, namespace: str, cluster: ClusterAccess
) -> None:
    text = spec(namespace, prometheus=SMALL_PROMETHEUS)
    assert reconcile.final(reconcile.publish(text, cluster="local"))["result"] == "ready"

    removed = reconcile.final(reconcile.publish(text, cluster="local", action="delete"))
    again = reconcile.final(reconcile.publish(text, cluster="local", action="delete"))

    assert removed["result"] == "removed", removed
    assert removed["components"][0]["actions"] == ["uninstall"]
    assert revisions(cluster, namespace) == {}
    assert read_platform(cluster, namespace, "obs") is None
    assert (again["result"], again["transient"]) == ("removed", False), again
    assert "nothing to remove" in again["message"]


def test_a_trace_of_the_request_reaches_the_log_line(
    reconcile: ServedFunction, namespace: str
) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    data = spec(namespace, prometheus=SMALL_PROMETHEUS).encode()

    status = reconcile.post(
        "traced-1",
        data,
        {"cluster": "local"},
        headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
    )

    assert status == 200
    line = next(line for line in reconcile.log_lines() if line.get("message_id") == "traced-1")
    assert line["logging.googleapis.com/trace"] == f"projects/gunj-local/traces/{trace}"


def test_one_message_delivered_ten_times_at_once_makes_one_revision(
    reconcile: ServedFunction, namespace: str, cluster: ClusterAccess
) -> None:
    data = spec(namespace, prometheus=SMALL_PROMETHEUS).encode()

    with ThreadPoolExecutor(10) as pool:
        statuses = list(
            pool.map(lambda _: reconcile.post("same-1", data, {"cluster": "local"}), range(10))
        )

    events = reconcile.events_for("same-1", lambda found: len(found) == 10)
    results = sorted(e["result"] for e in events)
    assert results.count("ready") == 1, results
    assert set(results) <= {"ready", "deferred", "duplicate"}, results
    # Deferred deliveries fail (Pub/Sub delivers them again); the others are acknowledged.
    assert statuses.count(500) == results.count("deferred")
    assert revisions(cluster, namespace) == {"obs-prometheus": 1}
    assert reconcile.post("same-1", data, {"cluster": "local"}) == 200
    assert reconcile.events_for("same-1", lambda found: len(found) == 11)[-1]["result"] == (
        "duplicate"
    )


def test_an_older_generation_is_ignored_and_a_change_upgrades_only_its_component(
    reconcile: ServedFunction, namespace: str, cluster: ClusterAccess
) -> None:
    first = reconcile.publish(
        spec(namespace, prometheus=SMALL_PROMETHEUS, tempo=SMALL_TEMPO),
        cluster="local",
        generation="3",
    )
    assert reconcile.final(first)["result"] == "ready"
    changed = {**SMALL_PROMETHEUS, "retention": "2d"}

    older = reconcile.publish(
        spec(namespace, prometheus=changed, tempo=SMALL_TEMPO), cluster="local", generation="2"
    )
    ignored = reconcile.final(older)

    assert (ignored["result"], ignored["transient"]) == ("stale", False)
    assert "generation 2 is older than generation 3" in ignored["message"]
    assert revisions(cluster, namespace) == {"obs-prometheus": 1, "obs-tempo": 1}

    newer = reconcile.publish(
        spec(namespace, prometheus=changed, tempo=SMALL_TEMPO), cluster="local", generation="4"
    )
    applied = reconcile.final(newer)

    assert applied["result"] == "ready"
    assert {c["component"]: c["actions"] for c in applied["components"]} == {
        "prometheus": ["upgrade", "verify"],
        "tempo": [],
    }
    assert revisions(cluster, namespace) == {"obs-prometheus": 2, "obs-tempo": 1}


def test_a_bad_spec_is_reported_by_field_acknowledged_and_changes_nothing(
    reconcile: ServedFunction, namespace: str, cluster: ClusterAccess
) -> None:
    bad = spec(namespace, prometheus={**SMALL_PROMETHEUS, "retention": "fifteen days"})

    message_id = reconcile.publish(bad, cluster="local")
    outcome = reconcile.final(message_id)

    assert (outcome["result"], outcome["transient"]) == ("invalid", False)
    assert "spec.prometheus.retention" in outcome["message"]
    assert "fifteen days" not in outcome["message"]
    assert reconcile.dead_lettered() == []
    assert len(reconcile.events_for(message_id, lambda found: True)) == 1
    assert read_platform(cluster, namespace, "obs") is None


def test_an_unknown_cluster_is_a_permanent_acknowledged_outcome(
    reconcile: ServedFunction, namespace: str
) -> None:
    message_id = reconcile.publish(spec(namespace, prometheus=SMALL_PROMETHEUS), cluster="nowhere")
    outcome = reconcile.final(message_id)

    assert (outcome["result"], outcome["transient"]) == ("refused", False)
    assert "nowhere" in outcome["message"]
    assert reconcile.dead_lettered() == []


class _Proxy:
    """A TCP forwarder to the API server that can be stopped and started again: to the
    function, the cluster goes away and comes back."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.listener: socket.socket | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def test_an_unreachable_api_server_is_retried_until_it_is_back(
    local_stack: Stack, tmp_path: Path, namespace: str
) -> None:
    config = yaml.safe_load(local_stack.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    proxy = _Proxy(int(server.rsplit(":", 1)[1]))
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    flaky_config = tmp_path / "flaky-kubeconfig"
    flaky_config.write_text(yaml.safe_dump(config))
    clusters = registry_file(
        local_stack,
        tmp_path,
        flaky={"kubeconfig": str(flaky_config), "context": config["current-context"]},
    )
    with served_function(
        "reconcile", local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
    ) as reconcile:
        message_id = reconcile.publish(
            spec(namespace, prometheus=SMALL_PROMETHEUS), cluster="flaky"
        )
        failures = reconcile.events_for(message_id, lambda found: len(found) >= 2)
        assert all(e["transient"] and e["result"] == "error" for e in failures), failures
        assert "cannot be reached" in failures[0]["message"]
        proxy.start()
        try:
            outcome = reconcile.final(message_id)
        finally:
            proxy.stop()

    assert outcome["result"] == "ready", outcome
    assert reconcile.dead_lettered() == []


def test_the_outcome_document_is_small_and_names_what_was_done(
    reconcile: ServedFunction, namespace: str
) -> None:
    message_id = reconcile.publish(spec(namespace, prometheus=SMALL_PROMETHEUS), cluster="local")
    outcome = reconcile.final(message_id)

    assert set(outcome) >= {
        "platform",
        "cluster",
        "generation",
        "components",
        "result",
        "duration",
        "message_id",
    }
    assert len(json.dumps(outcome)) < 4096

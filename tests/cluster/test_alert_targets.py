"""Which component an alert is about, read from the local cluster: by the release it names or
by a pod it names, for a component made by Helm and one made in native mode; and a cluster that
cannot be reached is a transient error, not a refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from shared.clusters import ClusterRegistry, current_context_of
from shared.engine.alert_target import Target, find_target
from shared.errors import GunjError
from shared.events.alerts import Alert
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.engine_support import SMALL_PROMETHEUS, Engine, platform


def registry(stack: Stack, folder: Path) -> ClusterRegistry:
    path = folder / "clusters.yaml"
    local = {"kubeconfig": str(stack.kubeconfig), "context": current_context_of(stack.kubeconfig)}
    path.write_text(yaml.safe_dump({"local": local}))
    return ClusterRegistry.load({"GUNJ_CLUSTERS": str(path)})


def alert(**labels: str) -> Alert:
    return Alert(
        source="alertmanager",
        key="fingerprint@now",
        firing=True,
        name="PrometheusDown",
        started_at=datetime.now(UTC),
        labels={"cluster": "local", **labels},
    )


@pytest.mark.parametrize("mode", ["helm", "native"])
def test_an_alert_naming_a_release_or_a_pod_finds_its_component(
    engine_helm3: Engine, namespace: str, local_stack: Stack, tmp_path: Path, mode: str
) -> None:
    spec = platform(namespace, **{"global": {"mode": mode}, "prometheus": SMALL_PROMETHEUS})
    assert engine_helm3.apply(spec).result == "ready"
    pods = engine_helm3.access.core.list_namespaced_pod(namespace).items
    (pod,) = [p.metadata.name for p in pods if "prometheus" in p.metadata.name]
    clusters = registry(local_stack, tmp_path)

    def find(found: Alert) -> Target:
        return find_target(found, clusters, lambda _cluster, _namespace: engine_helm3.access)

    by_release = find(alert(namespace=namespace, release="obs-prometheus"))
    by_pod = find(alert(namespace_name=namespace, pod_name=pod))

    assert by_release == Target("local", namespace, "obs", "prometheus", "release obs-prometheus")
    assert by_pod == Target(
        "local", namespace, "obs", "prometheus", "object of release obs-prometheus"
    )


def test_a_cluster_that_cannot_be_reached_is_a_transient_error(
    local_stack: Stack, tmp_path: Path
) -> None:
    config = yaml.safe_load(local_stack.kubeconfig.read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = "https://127.0.0.1:1"  # nothing listens there
    closed = tmp_path / "kubeconfig"
    closed.write_text(yaml.safe_dump(config))
    unreachable = ClusterAccess(closed)

    with pytest.raises(GunjError) as raised:
        find_target(
            alert(namespace="monitoring", pod="prometheus-0"),
            registry(local_stack, tmp_path),
            lambda _cluster, _namespace: unreachable,
        )

    assert raised.value.transient
    assert "cannot be reached" in str(raised.value)

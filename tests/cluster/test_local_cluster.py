"""The local cluster's lifecycle, on a second cluster of its own: starting a running cluster
reuses it, a stopped one starts again with its data, a killed one starts again with kwok faking
its pods at once, and a port taken meanwhile is reported instead of waited on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from shared.cli.main import main
from shared.kube import ClusterAccess
from shared.localstack import stack, tools, volumes
from shared.localstack.cluster import LocalCluster
from shared.localstack.processes import StartupError, port_open
from shared.localstack.stack import Stack


@pytest.fixture
def spare_cluster(local_stack: Stack, tmp_path: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tools.provision(), tmp_path / "stack", name="spare")
    try:
        yield cluster
    finally:
        cluster.delete()


def test_start_reuses_restarts_and_reports_taken_ports(spare_cluster: LocalCluster) -> None:
    first = spare_cluster.start()
    spare_cluster.kubectl("create", "configmap", "marker", "--from-literal=a=b")

    again = spare_cluster.start()  # running: reused as it is
    assert (again.running, again.server, again.nodes_ready) == (True, first.server, 3)
    assert first.version == "v1.34.4"

    assert spare_cluster.stop()
    ports = json.loads((spare_cluster.config_path.with_name("cluster-ports.json")).read_text())
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", ports["kubeApiserverPort"]))
        squatter.listen()
        with pytest.raises(
            StartupError, match=f"{ports['kubeApiserverPort']} \\(kubeApiserverPort\\)"
        ):
            spare_cluster.start()

    restarted = spare_cluster.start()
    assert restarted.server == first.server
    marker = spare_cluster.kubectl("get", "configmap", "marker", "-o", "jsonpath={.data.a}")
    assert marker.stdout == "b"  # etcd's data survived the stop


def _kill(cluster: LocalCluster) -> None:
    """End every process of the cluster the way a machine shutting down does: no clean stop."""
    for pid in cluster.recorded_pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    ports = json.loads((cluster.config_path.with_name("cluster-ports.json")).read_text())
    while any(port_open(port) for port in ports.values()):
        time.sleep(0.1)


def _ready(access: ClusterAccess, name: str) -> bool:
    pod = access.core.read_namespaced_pod(name, "default")
    conditions = (pod.status.conditions if pod.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def test_a_killed_cluster_starts_again_with_its_pods_faked(spare_cluster: LocalCluster) -> None:
    spare_cluster.start()
    _kill(spare_cluster)

    restarted = spare_cluster.start()
    assert (restarted.running, restarted.nodes_ready) == (True, 3)

    access = ClusterAccess(spare_cluster.kubeconfig)
    access.core.create_namespaced_pod(
        "default",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "probe"},
            "spec": {"containers": [{"name": "probe", "image": "busybox"}]},
        },
    )
    # The dead kwok's node leases would keep the new one away for 40 s after the kill; pods must
    # not wait for that once start() has returned.
    deadline = time.monotonic() + 30
    while not _ready(access, "probe"):
        assert time.monotonic() < deadline, "the pod is not Ready 30 s after the restart"
        time.sleep(0.5)


def test_claims_beyond_the_volume_pool_bind_while_the_stack_runs(
    local_stack: Stack, cluster: ClusterAccess, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.status(local_stack.name).servers["volume-keeper"] is not None
    assert main(["local", "status"]) == 0
    assert "volume-keeper: running" in capsys.readouterr().out
    claims = [f"claim-{index}" for index in range(volumes.POOL_SIZE + 4)]
    for name in claims:
        cluster.core.create_namespaced_persistent_volume_claim(
            namespace,
            client.V1PersistentVolumeClaim(
                metadata=client.V1ObjectMeta(name=name),
                spec=client.V1PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name="",
                    resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"}),
                ),
            ),
        )

    deadline = time.monotonic() + 120
    while True:
        listed = cluster.core.list_namespaced_persistent_volume_claim(namespace).items
        pending = sorted(c.metadata.name for c in listed if c.status.phase != "Bound")
        if not pending:
            break
        assert time.monotonic() < deadline, f"still pending: {pending}"
        time.sleep(1)

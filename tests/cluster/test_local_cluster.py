"""The local cluster's lifecycle, on a second cluster of its own: starting a running cluster
reuses it, a stopped one starts again with its data, and a port taken meanwhile is reported
instead of waited on."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.localstack import tools
from shared.localstack.cluster import LocalCluster
from shared.localstack.processes import StartupError
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

"""The fleet resync end to end: a tick on resync-ticks makes the resync function ask each platform
of each registered cluster to reconcile from the spec its cluster holds, and the reconcile
function, fed by Pub/Sub, puts back a Deployment deleted by hand, with no spec message. A
cluster that cannot be reached is named in the resync's summary and holds up no other."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.engine_support import SMALL_PROMETHEUS

Served = tuple[ServedFunction, ServedFunction]
UNREACHABLE = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:9"}}],
    "users": [{"name": "gone", "user": {"token": "not-a-real-token"}}],
    "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
    "current-context": "gone",
}


@pytest.fixture
def functions(
    local_stack: Stack, tmp_path: Path
) -> Iterator[tuple[ServedFunction, ServedFunction]]:
    """The reconcile and resync functions, on topics they share, reaching the local cluster
    and one that cannot be reached."""
    gone = tmp_path / "gone.yaml"
    gone.write_text(yaml.safe_dump(UNREACHABLE))
    clusters = registry_file(
        local_stack, tmp_path, gone={"kubeconfig": str(gone), "context": "gone"}
    )
    helm = local_stack.helm[3]
    with contextlib.ExitStack() as served:
        one = served.enter_context(
            served_function("reconcile", local_stack, tmp_path, helm=helm, clusters=clusters)
        )
        two = served.enter_context(
            served_function(
                "resync", local_stack, tmp_path, helm=helm, clusters=clusters, topics=one.topics
            )
        )
        yield one, two


def outcomes_of(served: ServedFunction, platform: str) -> list[dict[str, Any]]:
    served.drain()
    return [e for e in served.received if e.get("platform") == platform]


def test_a_resync_puts_back_a_deleted_deployment_with_no_spec_message(
    functions: Served,
    namespace: str,
    local_stack: Stack,
    cluster: ClusterAccess,
) -> None:
    reconcile, resync = functions
    spec = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": "obs", "namespace": namespace},
        "spec": {"prometheus": SMALL_PROMETHEUS},
    }
    installed = reconcile.final(reconcile.publish(yaml.safe_dump(spec), cluster="local"))
    assert installed["result"] == "ready", installed
    subprocess.run(
        [
            str(local_stack.kubectl),
            "--kubeconfig",
            str(local_stack.kubeconfig),
            "-n",
            namespace,
            "delete",
            "deployment",
            "obs-prometheus-server",
        ],
        check=True,
        capture_output=True,
    )

    tick = json.dumps({"namespaces": [namespace]})
    resync.publish(tick, source="cloud-scheduler")

    platform = f"{namespace}/obs"
    deadline = time.monotonic() + 240
    corrected: list[dict[str, Any]] = []
    while not corrected and time.monotonic() < deadline:
        corrected = [e for e in outcomes_of(reconcile, platform) if e["result"] == "corrected"]
    assert corrected, outcomes_of(reconcile, platform)
    assert corrected[0]["source"] == "resync"
    assert corrected[0]["components"][0]["actions"] == ["correct"]
    assert cluster.apps.read_namespaced_deployment("obs-prometheus-server", namespace)
    summary = next(e for e in reconcile.received if e.get("kind") == "resync")
    assert summary["platforms"] == 1
    assert list(summary["cluster_errors"]) == ["gone"]
    assert "cannot be reached" in summary["cluster_errors"]["gone"]
    assert "not-a-real-token" not in json.dumps(summary)

"""A platform whose release would take what another platform holds is refused before any Helm
install or upgrade, naming the other, with Helm 3 and Helm 4: the prometheus node exporter on a
host port another platform's node exporter takes (the same platform name in another namespace
and another name alike), and a cluster-scoped object another platform's release owns.
`gunj plan --cluster` refuses the same, and changes nothing."""

from __future__ import annotations

import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from shared.engine.collisions import Candidate, cluster_scoped, collision_problem
from shared.engine.wanted import desired_for
from shared.helm.releases import ReleaseState
from shared.kube import ClusterAccess
from shared.labels import HELM_NAMESPACE_ANNOTATION, HELM_RELEASE_ANNOTATION
from shared.localstack.stack import Stack
from shared.values.plan import plan_platform
from tests.engine_support import SMALL_PROMETHEUS, Engine, cli_environment, platform

RELEASE = "obs-prometheus"


@pytest.fixture
def other_namespace(cluster: ClusterAccess) -> Iterator[str]:
    name = f"t-collide-{uuid.uuid4().hex[:6]}"
    cluster.ensure_namespace(name, labels={"gunj.io/test": "true"})
    yield name
    cluster.core.delete_namespace(name)


@pytest.fixture
def host_port() -> int:
    """A port no other test's node exporter asks for."""
    return 40000 + secrets.randbelow(20000)


def exporter_on_host(port: int) -> dict[str, Any]:
    return {
        **SMALL_PROMETHEUS,
        "nodeExporter": {"enabled": True},
        "config": {"prometheus-node-exporter": {"hostNetwork": True, "service": {"port": port}}},
    }


def plan(env: dict[str, str], spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "plan", str(spec), "--cluster", "local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("name", ["obs", "other"])
def test_a_node_exporter_on_a_host_port_another_platform_takes_is_refused_up_front(
    engine: Engine,
    namespace: str,
    other_namespace: str,
    host_port: int,
    local_stack: Stack,
    tmp_path: Path,
    name: str,
) -> None:
    first = engine.apply(platform(namespace, prometheus=exporter_on_host(host_port)))
    assert first.result == "ready", first
    second = platform(other_namespace, name, prometheus=exporter_on_host(host_port))
    spec = tmp_path / "second.yaml"
    spec.write_text(yaml.safe_dump(second.manifest()))
    env = cli_environment(local_stack, tmp_path, engine.helm.binary.path)

    planned = plan(env, spec)
    engine.helm_runs()
    outcome = engine.apply(second)

    taken = f"host port {host_port}/TCP of DaemonSet {name}-prometheus-prometheus-node-exporter"
    owner = (
        f"is taken by DaemonSet {namespace}/{RELEASE}-prometheus-node-exporter of platform "
        f"{namespace}/obs (release {RELEASE})"
    )
    print(f"helm {engine.helm.major}: {outcome.result}: {outcome.message}")
    assert planned.returncode != 0, planned.stdout
    assert taken in planned.stderr + planned.stdout and owner in planned.stderr + planned.stdout
    assert outcome.result == "refused", outcome
    assert taken in outcome.message and owner in outcome.message
    assert not [run for run in engine.helm_runs() if run.startswith(("install", "upgrade"))]
    assert engine.release(other_namespace, f"{name}-prometheus").state is ReleaseState.ABSENT

    # Not a collision with itself: the first platform's own upgrade goes through.
    moved = {**exporter_on_host(host_port), "retention": "2d"}
    assert engine.apply(platform(namespace, prometheus=moved)).result == "ready"


def test_a_cluster_scoped_object_another_platform_owns_is_found_and_named(
    engine: Engine, namespace: str, other_namespace: str
) -> None:
    """The same platform name in two namespaces renders the same cluster-scoped names: here a
    ClusterRole of the first platform's release, as its chart would have made it."""
    assert engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS)).result == "ready"
    role = f"{RELEASE}-{uuid.uuid4().hex[:6]}"
    rbac = client.RbacAuthorizationV1Api(engine.access.api)
    rbac.create_cluster_role(
        client.V1ClusterRole(
            metadata=client.V1ObjectMeta(
                name=role,
                labels={"app.kubernetes.io/managed-by": "Helm"},
                annotations={
                    HELM_RELEASE_ANNOTATION: RELEASE,
                    HELM_NAMESPACE_ANNOTATION: namespace,
                },
            )
        )
    )
    try:
        second = platform(other_namespace, prometheus=SMALL_PROMETHEUS)
        desired = desired_for(engine.reconciler, plan_platform(second)[0])
        rendered = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role},
        }
        found = cluster_scoped(
            engine.access, [rendered], Candidate(RELEASE, other_namespace, "obs")
        )
        assert [c.describe() for c in found] == [
            f"ClusterRole {role} belongs to platform {namespace}/obs (release {RELEASE})"
        ]
        mine = cluster_scoped(engine.access, [rendered], Candidate(RELEASE, namespace, "obs"))
        assert mine == []
        # The test chart makes no cluster-scoped object of its own: nothing else collides.
        assert (
            collision_problem(
                engine.access,
                engine.reconciler.helm,
                engine.reconciler.charts,
                desired,
                "obs",
            )
            is None
        )
    finally:
        rbac.delete_cluster_role(role)

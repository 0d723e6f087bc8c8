"""The local stack as a fleet: ``gunj local up --clusters 3`` runs three clusters, each a whole
cluster of its own and registered under its name, and a Firestore emulator that the real client
library writes to and reads from."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from shared.cli.main import main
from shared.clusters import ClusterRegistry, KubeconfigFile
from shared.clusters.alerttokens import token_hash
from shared.fleet.settings import FleetSettings
from shared.kube import ClusterAccess
from shared.localstack import serving
from shared.localstack.stack import Stack

FLEET = ["local", "local-2", "local-3"]


def test_the_firestore_emulator_keeps_what_a_client_writes(
    local_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = local_stack.environment()
    assert environment["FIRESTORE_EMULATOR_HOST"] == f"127.0.0.1:{local_stack.ports.firestore}"
    assert environment["GUNJ_FLEET_PROJECT"] == local_stack.pubsub_project
    # The client library finds the emulator through the process environment, as the served
    # functions do.
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    settings = FleetSettings.from_environment()
    assert settings is not None

    store = settings.client()
    document = store.collection("fleet-test").document(uuid.uuid4().hex)
    document.set({"cluster": "local-2", "wave": "early", "healthy": True})

    again = settings.client().collection("fleet-test").document(document.id).get()
    assert again.to_dict() == {"cluster": "local-2", "wave": "early", "healthy": True}
    assert not settings.client().collection("fleet-test").document("never-written").get().exists


def _deployment(name: str) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name=name, image="busybox")]),
            ),
        ),
    )


def _ready_replicas(access: ClusterAccess, namespace: str, name: str) -> int:
    status = access.apps.read_namespaced_deployment(name, namespace).status
    return (status.ready_replicas if status else None) or 0


def test_up_with_three_clusters_registers_three_clusters_of_their_own(
    fleet_stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry_file = tmp_path / "clusters.yaml"
    monkeypatch.setenv("GUNJ_CLUSTERS", str(registry_file))
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)

    assert main(["local", "up", "--clusters", "3"]) == 0
    assert "clusters 'local', 'local-2', 'local-3' registered" in capsys.readouterr().out

    registry = ClusterRegistry.load()
    assert registry.names() == FLEET
    token = token_hash(serving.alertmanager_token(fleet_stack))
    targets = {}
    for name in FLEET:
        registered = registry.get(name)
        assert isinstance(registered.target, KubeconfigFile)
        assert registered.target.path == fleet_stack.kubeconfigs[name]
        assert token in registered.alert_tokens
        targets[name] = registered.target.path
    assert [registry.get(name).wave for name in FLEET] == ["canary", "early", "main"]
    assert len(set(targets.values())) == 3

    # The status lists every cluster, each at an API server of its own with its nodes Ready.
    capsys.readouterr()
    assert main(["local", "status", "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["clusters"]
    assert list(listed) == FLEET
    assert all(entry["running"] and entry["nodesReady"] == 3 for entry in listed.values())
    assert len({entry["server"] for entry in listed.values()}) == 3
    assert all(entry["volumeKeeper"]["pid"] for entry in listed.values())

    accesses = {name: ClusterAccess(path) for name, path in targets.items()}
    # What is made on one cluster is on that one only.
    namespace = f"t-fleet-{uuid.uuid4().hex[:6]}"
    accesses["local-2"].ensure_namespace(namespace)
    try:
        present = {
            name: any(
                item.metadata.name == namespace for item in access.core.list_namespace().items
            )
            for name, access in accesses.items()
        }
        assert present == {"local": False, "local-2": True, "local-3": False}
    finally:
        accesses["local-2"].delete_namespace(namespace)

    # Each runs a Deployment to ready on nodes of its own.
    node_names = set()
    for access in accesses.values():
        nodes = access.core.list_node().items
        ready = [
            node.metadata.name
            for node in nodes
            if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
        ]
        assert len(ready) == 3
        node_names.update(ready)
    assert len(node_names) == 9
    namespace = f"t-fleet-deploy-{uuid.uuid4().hex[:6]}"
    try:
        for access in accesses.values():
            access.ensure_namespace(namespace)
            access.apps.create_namespaced_deployment(namespace, _deployment("probe"))
        deadline = time.monotonic() + 120
        for name, access in accesses.items():
            while _ready_replicas(access, namespace, "probe") < 2:
                assert time.monotonic() < deadline, f"the Deployment on {name} is not ready"
                time.sleep(0.5)
    finally:
        for access in accesses.values():
            access.delete_namespace(namespace)


def test_env_names_the_firestore_emulator_and_the_fleet_project(
    fleet_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["local", "env"]) == 0
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in capsys.readouterr().out.splitlines()
    )
    assert exports["FIRESTORE_EMULATOR_HOST"] == f"127.0.0.1:{fleet_stack.ports.firestore}"
    assert exports["GUNJ_FLEET_PROJECT"] == "gunj-local"


def test_the_fleet_registry_fixture_names_every_cluster(
    fleet: dict[str, ClusterAccess], fleet_registry: Path
) -> None:
    entries = yaml.safe_load(fleet_registry.read_text())
    assert sorted(entries) == sorted(fleet) == FLEET
    assert {name: entries[name]["wave"] for name in FLEET} == {
        "local": "canary",
        "local-2": "early",
        "local-3": "main",
    }

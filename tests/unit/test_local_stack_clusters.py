"""How the local stack's clusters are named, registered and counted, without starting them (the
cluster tier's test_local_fleet.py starts three for real): registration in waves with the
stack's alert token, the registrations of clusters a smaller ``up`` stopped removed (a user's own
cluster of the same name kept), a bad ``--clusters`` refused before anything starts, and a
``state.json`` written before the Firestore emulator was part of the stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli.main import main
from shared.cli.target import register
from shared.clusters import ClusterRegistry, KubeconfigFile
from shared.clusters.alerttokens import token_hash
from shared.localstack import clusters, serving, stack
from shared.localstack.stack import Ports, Stack
from tests.unit.test_clusters import kubeconfig_text


def fake_stack(folder: Path, count: int) -> Stack:
    """A stack whose clusters' kubeconfigs are real files where the stack keeps them."""
    kubeconfigs = {}
    for name in clusters.registered_names(count):
        path = clusters.folder_of(folder, name) / "kwok" / "kubeconfig.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kubeconfig_text())
        kubeconfigs[name] = path
    first = kubeconfigs["local"]
    return Stack(
        "local", folder, first, {}, folder / "kubectl", Ports(1, 2, 3, 4), kubeconfigs=kubeconfigs
    )


@pytest.fixture
def registry_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "clusters.yaml"
    monkeypatch.setenv("GUNJ_CLUSTERS", str(path))
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)
    return path


def test_names_folders_and_kwok_names() -> None:
    assert clusters.registered_names(1) == ["local"]
    assert clusters.registered_names(3) == ["local", "local-2", "local-3"]
    assert [clusters.kwok_name(n) for n in clusters.registered_names(3)] == [
        "gunj",
        "gunj-2",
        "gunj-3",
    ]
    assert clusters.folder_of(Path("/s"), "local") == Path("/s")
    assert clusters.folder_of(Path("/s"), "local-3") == Path("/s/clusters/local-3")
    with pytest.raises(ValueError, match="clusters: 0 is not between 1 and"):
        clusters.registered_names(0)
    with pytest.raises(ValueError, match="'prod' is not a cluster of the local stack"):
        clusters.kwok_name("prod")


def test_three_clusters_are_registered_in_waves_with_the_alert_token(
    tmp_path: Path, registry_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = fake_stack(tmp_path / "stack", 3)
    register(running)

    registry = ClusterRegistry.load()
    assert registry.names() == ["local", "local-2", "local-3"]
    token = token_hash(serving.alertmanager_token(running))
    for name, kubeconfig in running.kubeconfigs.items():
        assert registry.get(name).target == KubeconfigFile(kubeconfig, "main")
        assert registry.get(name).alert_tokens == (token,)
    assert [registry.get(n).wave for n in registry.names()] == ["canary", "early", "main"]
    assert "clusters 'local', 'local-2', 'local-3' registered" in capsys.readouterr().out


def test_one_cluster_is_registered_as_before_without_a_wave(
    tmp_path: Path, registry_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(fake_stack(tmp_path / "stack", 1))

    registry = ClusterRegistry.load()
    assert registry.names() == ["local"]
    assert registry.get("local").wave is None
    assert f"cluster 'local' registered in {registry_file}" in capsys.readouterr().out


def test_fewer_clusters_remove_the_stopped_ones_registrations_only(
    tmp_path: Path, registry_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(fake_stack(tmp_path / "stack", 3))
    # A cluster of the user's own, named like one of the stack's, elsewhere.
    own = tmp_path / "own.yaml"
    own.write_text(kubeconfig_text())
    ClusterRegistry.load().unregister("local-3")
    ClusterRegistry.load().register("local-3", own, "main")

    register(fake_stack(tmp_path / "stack", 1))

    registry = ClusterRegistry.load()
    assert registry.names() == ["local", "local-3"]
    assert registry.get("local-3").target == KubeconfigFile(own, "main")
    assert "registration of 'local-2' removed (stopped)" in capsys.readouterr().out


@pytest.mark.parametrize("given", ["0", "10", "three", "-1"])
def test_a_bad_cluster_count_is_refused_before_anything_starts(
    given: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(**_: object) -> Stack:
        raise AssertionError("the stack was started")

    monkeypatch.setattr(stack, "up", never)
    with pytest.raises(SystemExit) as exited:
        main(["local", "up", "--clusters", given])
    assert exited.value.code == 2
    assert f"--clusters: {given!r} is not a number of clusters from 1 to 9" in (
        capsys.readouterr().err
    )


def test_a_state_recorded_before_the_firestore_emulator_reads_as_one_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUNJ_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "stacks" / "local"
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(
        json.dumps(
            {
                "ports": {"pubsub": 11, "charts": 12, "oci": 13},
                "kubeconfig": str(folder / "k.yaml"),
                "helm": {"3": "/h3"},
                "kubectl": "/kubectl",
            }
        )
    )
    recorded = stack.recorded()
    assert recorded is not None
    assert recorded.ports == Ports(pubsub=11, charts=12, oci=13, firestore=0)
    assert recorded.kubeconfigs == {"local": folder / "k.yaml"}

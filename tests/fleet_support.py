"""Helpers of the fleet tests (and of the fleet benchmark): a store of a test's own on the local
stack's Firestore emulator, a registry of the stack's clusters in their waves, a platform's
summary as the reconcile records it, and a cluster whose API server does not answer."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.clusters import ClusterRegistry, current_context_of
from shared.fleet.progress import summary_key
from shared.fleet.settings import EMULATOR, PROJECT, FleetSettings
from shared.fleet.store import Store
from shared.localstack import clusters as localclusters

WARM_UP_SECONDS = 120.0


def warm_up(host: str) -> None:
    """One write and one read on the emulator at ``host``, waiting as long as they take."""
    import os

    from google.cloud import firestore

    saved = os.environ.get(EMULATOR)
    os.environ[EMULATOR] = host
    try:
        client = firestore.Client(project="warm-up")
        client.collection("warm-up").document("w").set({"at": 1}, timeout=WARM_UP_SECONDS)
        client.collection("warm-up").get(timeout=WARM_UP_SECONDS)
    finally:
        if saved is None:
            os.environ.pop(EMULATOR, None)
        else:
            os.environ[EMULATOR] = saved


def store_of_own(host: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    project = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv(EMULATOR, host)
    monkeypatch.setenv(PROJECT, project)
    settings = FleetSettings.from_environment()
    assert settings is not None
    return Store(settings)


def kubeconfig_of_silent_server(url: str, folder: Path) -> Path:
    """A kubeconfig whose cluster is the server at ``url`` (one that never answers)."""
    from tests.unit.test_clusters import kubeconfig_text

    path = folder / "silent-kubeconfig.yaml"
    path.write_text(kubeconfig_text().replace("https://127.0.0.1:6443", url))
    return path


def fleet_registry_file(kubeconfigs: Mapping[str, Path], path: Path) -> Path:
    """A cluster registry file at ``path`` naming each of the local stack's clusters
    (``kubeconfigs`` by registered name), in the waves ``gunj local up`` registers them in."""
    registry = ClusterRegistry.load({"GUNJ_CLUSTERS": str(path)})
    for name, kubeconfig in kubeconfigs.items():
        wave = localclusters.wave_of(name, len(kubeconfigs))
        registry.register(name, kubeconfig, current_context_of(kubeconfig), wave=wave)
    return path


def ready_at(store: Store, cluster: str, platform: str, version: str) -> None:
    """The platform's summary as the reconcile records it after its upgrade: Ready, tempo at
    ``version``."""
    store.document("platforms", summary_key(cluster, platform)).set(
        {
            "cluster": cluster,
            "phase": "Ready",
            "ready": True,
            "components": {"tempo": {"chart": "tempo", "chartVersion": version}},
            "updatedAt": datetime.now(UTC),
        }
    )

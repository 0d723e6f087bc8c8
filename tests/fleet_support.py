"""Helpers of the fleet tests: a store of a test's own on the local stack's Firestore emulator,
and a cluster whose API server does not answer."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.fleet.settings import EMULATOR, PROJECT, FleetSettings
from shared.fleet.store import Store

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

"""Helpers of the fleet tests: a Firestore emulator (the Cloud SDK's, started for the session
when the local stack runs none), a store of a test's own, a registry of several clusters, and a
cluster whose API server does not answer."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from shared.fleet.settings import EMULATOR, PROJECT, FleetSettings
from shared.fleet.store import Store

STARTUP_SECONDS = 90.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(host: str) -> bool:
    address, port = host.rsplit(":", 1)
    try:
        with socket.create_connection((address, int(port)), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def own_firestore_emulator(unavailable: Callable[[str], None]) -> Iterator[str]:
    """The Cloud SDK's Firestore emulator on a free port of 127.0.0.1, stopped afterwards."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        unavailable("the Firestore emulator needs the Cloud SDK (gcloud), which is not installed")
        raise AssertionError("unreachable")
    host = f"127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        [gcloud, "emulators", "firestore", "start", f"--host-port={host}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        while not _answers(host):
            if process.poll() is not None or time.monotonic() - started > STARTUP_SECONDS:
                unavailable(f"the Firestore emulator did not start on {host}")
            time.sleep(0.5)
        yield host
    finally:
        # gcloud starts the emulator's JVM as its child: stop the whole session of processes.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


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

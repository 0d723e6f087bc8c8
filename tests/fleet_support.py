"""The fleet store for tests: the Firestore emulator the environment names
(``FIRESTORE_EMULATOR_HOST``, as the local stack's environment does), else one started here for
the session on a free port of 127.0.0.1. Each test gets a project of its own, which the emulator
keeps apart from every other."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from shared.fleet.settings import EMULATOR, FleetSettings
from tests.conftest import unavailable

if TYPE_CHECKING:
    from google.cloud import firestore

START_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(host: str) -> bool:
    address, _, port = host.rpartition(":")
    try:
        with socket.create_connection((address, int(port)), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def emulator(variable: str, *command: str) -> Iterator[str]:
    """The emulator ``variable`` names, else one started with ``gcloud COMMAND`` for as long
    as the context lasts (``variable`` set meanwhile)."""
    named = os.environ.get(variable, "").strip()
    if named:
        yield named
        return
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        unavailable(f"no gcloud to start {' '.join(command)} with")
    host = f"127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        [str(gcloud), *command, f"--host-port={host}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(host):
            if process.poll() is not None or time.monotonic() > deadline:
                unavailable(f"{' '.join(command)} did not start")
            time.sleep(0.5)
        os.environ[variable] = host
        yield host
    finally:
        os.environ.pop(variable, None)
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def firestore_host() -> Iterator[str]:
    with emulator(EMULATOR, "emulators", "firestore", "start") as host:
        yield host


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[str]:
    """A Pub/Sub emulator: the one ``PUBSUB_EMULATOR_HOST`` names, else one of the test's."""
    with emulator("PUBSUB_EMULATOR_HOST", "beta", "emulators", "pubsub", "start") as host:
        yield host


@pytest.fixture
def fleet_settings(firestore_host: str) -> FleetSettings:
    return FleetSettings(project=f"test-{uuid.uuid4().hex[:12]}", emulator=firestore_host)


@pytest.fixture
def fleet_store(fleet_settings: FleetSettings) -> firestore.Client:
    return fleet_settings.client()

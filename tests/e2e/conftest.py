"""Fixtures of the rollout tests: a fleet of the test's own on the local stack's emulators, as
the settings a function reads and as a Firestore client of the same project."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from shared.fleet.settings import FleetSettings

if TYPE_CHECKING:
    from google.cloud import firestore


@pytest.fixture
def fleet_settings(firestore_host: str) -> FleetSettings:
    """A project of the test's own: the emulator keeps projects apart."""
    return FleetSettings(project=f"test-{uuid.uuid4().hex[:12]}", emulator=firestore_host)


@pytest.fixture
def fleet_client(fleet_settings: FleetSettings) -> firestore.Client:
    return fleet_settings.client()


@pytest.fixture
def pubsub_emulator(pubsub_host: str) -> str:
    return pubsub_host

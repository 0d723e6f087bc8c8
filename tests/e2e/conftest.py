"""Fixtures of the rollout tests: the local stack's Pub/Sub emulator (the fleet store of a test's
own is the suite's ``fleet_store``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def pubsub_emulator(pubsub_host: str) -> str:
    return pubsub_host

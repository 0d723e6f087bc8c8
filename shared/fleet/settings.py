"""Where the fleet store is, from the environment, and how to open a client for it.

``GUNJ_FLEET_PROJECT`` names the Google Cloud project whose Firestore database holds the fleet
(``GUNJ_FLEET_DATABASE``, default ``(default)``); the Terraform module sets both. Locally the
stack's Firestore emulator is named by ``FIRESTORE_EMULATOR_HOST``, which the client library
reads itself. With no project configured there is no fleet store.

The client library is imported only when a store is opened: it costs the functions' entry points
hundreds of milliseconds they do not pay when no fleet is configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.cloud import firestore

PROJECT = "GUNJ_FLEET_PROJECT"
DATABASE = "GUNJ_FLEET_DATABASE"
EMULATOR = "FIRESTORE_EMULATOR_HOST"
DEFAULT_DATABASE = "(default)"
CALL_TIMEOUT_SECONDS = 10.0
"""Every call to the store has this deadline: a silent store must not hold a function."""


@dataclass(frozen=True)
class FleetSettings:
    project: str
    database: str = DEFAULT_DATABASE
    emulator: str | None = None

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> FleetSettings | None:
        """The configured store, or None when there is none."""
        env = os.environ if env is None else env
        project = env.get(PROJECT, "").strip()
        if not project:
            return None
        return cls(
            project=project,
            database=env.get(DATABASE, "").strip() or DEFAULT_DATABASE,
            emulator=env.get(EMULATOR, "").strip() or None,
        )

    def describe(self) -> str:
        where = f"the emulator at {self.emulator}" if self.emulator else "Firestore"
        return f"project {self.project} database {self.database} on {where}"

    def client(self) -> firestore.Client:
        """A client for the store (the emulator when one is named: then with no credentials)."""
        from google.cloud import firestore

        if self.emulator is None:
            return firestore.Client(project=self.project, database=self.database)
        from google.auth.credentials import AnonymousCredentials

        client = firestore.Client(
            project=self.project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            database=self.database,
        )
        # The library takes the emulator from the process's environment only, and these
        # settings may come from another one (a command reaching the local stack's store).
        client._emulator_host = self.emulator
        return client

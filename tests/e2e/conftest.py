"""Fixtures of the functions' tests beyond the suite's own: the fleet store."""

from tests.fleet_support import firestore_host, fleet_settings, fleet_store, pubsub_emulator

__all__ = ["firestore_host", "fleet_settings", "fleet_store", "pubsub_emulator"]

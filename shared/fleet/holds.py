"""The engine's view of fleet-wide quarantines (:class:`shared.engine.quarantine.FleetHolds`):
asked when a component is about to be installed or upgraded, whether the fleet holds what the
spec asks for.

One :class:`StoreHolds` per piece of work (a reconcile, a look, a plan): it reads the store at
most once per component and chart, and notes, instead of failing, when the store cannot be
read: the platform's own rules still hold, and the outcome says the fleet's could not be
checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from . import quarantines
from .store import FleetStoreError, Store, configured_store


@dataclass
class StoreHolds:
    store: Store
    _held: dict[tuple[str, str], quarantines.FleetHeld] = field(default_factory=dict)
    _notes: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return self._notes

    def fresh(self) -> StoreHolds:
        return StoreHolds(self.store)

    def why_held(self, component: str, chart: str, version: str, digest: str) -> str | None:
        key = (component, chart)
        if key not in self._held:
            try:
                self._held[key] = quarantines.held(self.store, component, chart)
            except FleetStoreError as error:
                note = f"fleet quarantines not checked: {error}"
                if note not in self._notes:
                    self._notes.append(note)
                return None
        entry = self._held[key].holding(version, digest)
        return entry.origin() if entry is not None else None


def holds_from_environment(env: Mapping[str, str] | None = None) -> StoreHolds | None:
    """The fleet's holds when a store is configured, else None."""
    store = configured_store(env)
    return StoreHolds(store) if store is not None else None

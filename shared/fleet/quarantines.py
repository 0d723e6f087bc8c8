"""Fleet-wide quarantines: a chart version (or one content of it) an alert rolled back on one
cluster is held on every cluster.

One document per held thing in ``quarantines``, its id the first 32 hex characters of the
SHA-256 of ``component/chart/version[/digest]``: two clusters rolling back the same version
write the same document, and the first one's record stands (a create, which fails on a
document that exists). Lifting deletes the document.

A platform's own quarantine stays in its status (:mod:`shared.engine.quarantine`); this module
is what holds the others. Rebuilt after the store is lost from those records: every platform's
status keeps the versions its alerts rolled back from (:func:`from_platform_record`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .store import Store, now

COLLECTION = "quarantines"
REASON_LENGTH = 500
SHORT_DIGEST = 12


def quarantine_id(component: str, chart: str, version: str, digest: str | None = None) -> str:
    key = f"{component}/{chart}/{version}" + (f"/{digest}" if digest else "")
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class FleetQuarantine:
    """A chart version (``digest`` None) or one content of it, held on every cluster."""

    component: str
    chart: str
    chart_version: str
    reason: str
    cluster: str
    platform: str
    """``namespace/name`` of the platform whose rollback quarantined it."""
    incident: str | None = None
    digest: str | None = None
    since: datetime | None = None

    @property
    def id(self) -> str:
        return quarantine_id(self.component, self.chart, self.chart_version, self.digest)

    def describe(self) -> str:
        what = f"{self.component} chart {self.chart} {self.chart_version}"
        if self.digest:
            what += f" with digest {self.digest[:SHORT_DIGEST]}"
        return what

    def origin(self) -> str:
        """Where and why it was quarantined."""
        return f"rolled back on cluster {self.cluster} ({self.platform}): {self.reason}"

    def named_by(self, component: str, what: str) -> bool:
        """Whether ``what`` (a chart version, or a digest of 12 characters or more) names it."""
        if self.component != component:
            return False
        if self.chart_version == what:
            return True
        return (
            self.digest is not None and len(what) >= SHORT_DIGEST and self.digest.startswith(what)
        )

    def to_fields(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "chart": self.chart,
            "chartVersion": self.chart_version,
            "digest": self.digest,
            "reason": self.reason[:REASON_LENGTH],
            "cluster": self.cluster,
            "platform": self.platform,
            "incident": self.incident,
            "since": self.since or now(),
        }

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> FleetQuarantine:
        since = fields.get("since")
        return cls(
            component=str(fields.get("component", "")),
            chart=str(fields.get("chart", "")),
            chart_version=str(fields.get("chartVersion", "")),
            reason=str(fields.get("reason", "")),
            cluster=str(fields.get("cluster", "")),
            platform=str(fields.get("platform", "")),
            incident=_optional(fields.get("incident")),
            digest=_optional(fields.get("digest")),
            since=since if isinstance(since, datetime) else None,
        )

    def to_json(self) -> dict[str, Any]:
        document = self.to_fields()
        document["since"] = self.since.isoformat() if self.since else None
        return document


def _optional(value: Any) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class FleetHeld:
    """What the fleet holds of one component and chart."""

    entries: tuple[FleetQuarantine, ...] = ()
    versions: frozenset[str] = field(init=False)
    digests: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "versions", frozenset(q.chart_version for q in self.entries if not q.digest)
        )
        object.__setattr__(self, "digests", frozenset(q.digest for q in self.entries if q.digest))

    def holding(self, version: str, digest: str | None = None) -> FleetQuarantine | None:
        """The quarantine that holds ``version`` (or exactly the content ``digest``), if any."""
        for entry in self.entries:
            if entry.digest is None and entry.chart_version == version:
                return entry
            if digest is not None and entry.digest == digest:
                return entry
        return None


def quarantine(store: Store, entry: FleetQuarantine) -> bool:
    """Hold ``entry`` on every cluster; False when it is held already (the first record
    stands)."""
    return store.create(COLLECTION, entry.id, entry.to_fields())


def list_all(store: Store) -> list[FleetQuarantine]:
    """Everything held fleet-wide, by component, chart and version."""
    found = [FleetQuarantine.from_fields(fields) for _id, fields in store.list(COLLECTION)]
    return sorted(found, key=lambda q: (q.component, q.chart, q.chart_version, q.digest or ""))


def held(store: Store, component: str, chart: str | None = None) -> FleetHeld:
    """What the fleet holds of ``component`` (of ``chart``, when named)."""
    return FleetHeld(
        tuple(
            q
            for q in list_all(store)
            if q.component == component and (chart is None or q.chart == chart)
        )
    )


def lift(
    store: Store, component: str, what: str, chart: str | None = None
) -> list[FleetQuarantine]:
    """Lift what ``what`` names for ``component`` (a chart version with any content of it, or
    a digest): the quarantines deleted (none: nothing was held)."""
    lifted: list[FleetQuarantine] = []
    for entry in held(store, component, chart).entries:
        if entry.named_by(component, what) and store.delete(COLLECTION, entry.id):
            lifted.append(entry)
    return lifted


def from_platform_record(
    cluster: str, platform: str, chart_of: dict[str, str], recorded: Iterable[Any]
) -> list[FleetQuarantine]:
    """The fleet quarantines a platform's status records (its ``quarantinedVersions`` that an
    alert caused, ``incident`` set): what rebuilds the collection after the store was lost.
    ``chart_of``: each component's chart name, from the platform's status."""
    return [
        FleetQuarantine(
            component=q.component,
            chart=chart_of.get(q.component, ""),
            chart_version=q.chart_version,
            reason=q.reason,
            cluster=cluster,
            platform=platform,
            incident=q.incident,
            digest=q.digest,
            since=q.since,
        )
        for q in recorded
        if q.incident and chart_of.get(q.component)
    ]

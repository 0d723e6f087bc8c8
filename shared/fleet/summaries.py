"""Per-platform summaries for the fleet view: one document per platform of every cluster in
``platforms``, id ``{cluster}~{namespace}~{name}``, written after every reconcile, resync and
rollback outcome of the platform when a store is configured.

A summary says what the platform's status says (phase, readiness, each component's chart,
version, state, mode, drift, when gunj last changed it and until when that change bakes, the
last rollback) and never a value of the spec. The cluster stays the truth: a lost summary is
written again by the platform's next resync. A write never replaces a summary with an older one
(:func:`record` compares ``observedGeneration`` and ``updatedAt`` over the version it read).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .store import KEEP, Keep, Store, now

if TYPE_CHECKING:
    from ..engine.resource import StoredPlatform

COLLECTION = "platforms"
SEPARATOR = "~"


def summary_id(cluster: str, namespace: str, name: str) -> str:
    return SEPARATOR.join((cluster, namespace, name))


def summary_of(cluster: str, stored: StoredPlatform, at: datetime | None = None) -> dict[str, Any]:
    """The summary of a platform as its cluster holds it (``at``: when it was read)."""
    status = stored.status
    components: dict[str, Any] = {}
    bake = _bake_windows(stored)
    for component, record in sorted(status.components.items()):
        bake_until = None
        if record.last_changed is not None and component in bake:
            bake_until = record.last_changed + bake[component]
        components[component] = {
            "chart": record.chart,
            "chartVersion": record.chart_version,
            "state": str(record.state) if record.state is not None else None,
            "mode": record.mode,
            "drift": bool(record.drift) or str(record.state) == "Drifted",
            "changedAt": record.last_changed,
            "bakeUntil": bake_until,
        }
    ready = next((c.status == "True" for c in status.conditions if c.type == "Ready"), False)
    return {
        "cluster": cluster,
        "namespace": stored.namespace,
        "name": stored.name,
        "phase": status.phase or "Pending",
        "ready": ready,
        "generation": stored.generation,
        "observedGeneration": status.observed_generation,
        "specDigest": _reconciled_spec_digest(stored),
        "components": components,
        "lastRollback": _last_rollback(stored),
        "deleting": stored.deleting,
        "updatedAt": at or now(),
    }


def _reconciled_spec_digest(stored: StoredPlatform) -> str | None:
    """The digest of the spec the status last reconciled (as a rollout of a spec names it),
    when the status is of the spec the cluster holds now; else None."""
    from ..engine.admission import spec_digest
    from ..engine.resource import platform_of

    if stored.status.observed_generation != stored.generation:
        return None
    try:
        return spec_digest(platform_of(stored))
    except ValueError:
        return None


def _bake_windows(stored: StoredPlatform) -> dict[str, timedelta]:
    from ..engine.alert_policy import bake_window_of
    from ..engine.resource import platform_of

    try:
        platform = platform_of(stored)
    except ValueError:
        return {}
    windows: dict[str, timedelta] = {}
    for component in stored.status.components:
        spec = platform.spec.component(component)
        if spec is not None:
            windows[component] = bake_window_of(spec.remediation.bake_window)
    return windows


def _last_rollback(stored: StoredPlatform) -> dict[str, Any] | None:
    """The newest rollback the status records (its actions), with what it returned from."""
    rollbacks = [
        a for a in stored.status.last_actions if a.action == "rollback" and a.outcome != "failed"
    ]
    if not rollbacks:
        return None
    last = max(rollbacks, key=lambda a: a.time)
    held = [q for q in stored.status.quarantined_versions if q.component == last.component]
    newest = max(held, key=lambda q: q.since) if held else None
    return {
        "component": last.component,
        "fromVersion": newest.chart_version if newest else None,
        "at": last.time,
        "incident": newest.incident if newest else None,
    }


def _newer(summary: dict[str, Any], existing: dict[str, Any]) -> bool:
    """Whether ``summary`` may replace ``existing``: not of an older generation, nor read
    before it."""
    mine, theirs = summary.get("observedGeneration"), existing.get("observedGeneration")
    if isinstance(mine, int) and isinstance(theirs, int) and mine < theirs:
        return False
    written, stored = summary.get("updatedAt"), existing.get("updatedAt")
    return not (isinstance(written, datetime) and isinstance(stored, datetime) and written < stored)


class Recorded(enum.Enum):
    """What :func:`record` did; true when it wrote."""

    KEPT = "kept"
    CHANGED = "changed"
    CREATED = "created"
    """No summary of the platform was there: its first, or the first since the store was lost."""

    def __bool__(self) -> bool:
        return self is not Recorded.KEPT


def record(store: Store, summary: dict[str, Any]) -> Recorded:
    """Write ``summary`` unless the store holds a newer one, or one that says the same."""
    key = summary_id(summary["cluster"], summary["namespace"], summary["name"])

    def change(existing: dict[str, Any] | None) -> dict[str, Any] | Keep:
        if existing is not None and not _newer(summary, existing):
            return KEEP
        if existing is not None and _same(summary, existing):
            return KEEP  # nothing new: a resync of a steady platform writes nothing
        return summary

    changed = store.change(COLLECTION, key, change)
    if not changed.written:
        return Recorded.KEPT
    return Recorded.CREATED if changed.before is None else Recorded.CHANGED


def _same(summary: dict[str, Any], existing: dict[str, Any]) -> bool:
    def content(document: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in document.items() if k != "updatedAt"}

    return bool(_comparable(content(summary)) == _comparable(content(existing)))


def _comparable(value: Any) -> Any:
    """Timestamps as Firestore gives them back (microseconds, UTC) compare with those sent."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds") if value.tzinfo else value
    return value


def forget(store: Store, cluster: str, namespace: str, name: str) -> bool:
    """Remove the summary of a platform that was uninstalled."""
    return store.delete(COLLECTION, summary_id(cluster, namespace, name))


def get(store: Store, cluster: str, namespace: str, name: str) -> dict[str, Any] | None:
    return store.read(COLLECTION, summary_id(cluster, namespace, name))


def list_all(store: Store) -> list[dict[str, Any]]:
    """Every platform's summary, by cluster, namespace and name."""
    return [fields for _id, fields in store.list(COLLECTION)]

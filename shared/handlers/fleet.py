"""What the functions tell the fleet store after a platform's outcome, when a store is
configured (:mod:`shared.fleet`): the platform's summary after every reconcile, resync and
rollback, and, after an alert rolled a component back, the fleet-wide quarantine of what it
returned from, with the halt of every rollout of that version.

The cluster stays the truth, and its work is done before the store is told: a store that is
down or refuses fails nothing. What could not be written is said in the outcome's ``fleet``
field and its log line; the next outcome of the platform (at the latest its next resync) writes
its summary again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..engine.outcome import Outcome
from ..errors import GunjError
from ..events.log import log_line
from ..fleet import quarantines, summaries
from ..fleet.store import Store, configured_store
from .reconcilers import reconciler

if TYPE_CHECKING:
    from ..engine.resource import StoredPlatform

# Outcomes after which the platform's status cannot have changed, or its cluster was not
# reached (the next outcome writes the summary).
UNCHANGED = frozenset({"duplicate", "stale", "invalid", "refused", "ignored", "deferred", "error"})


def record_summary(document: dict[str, Any], env: Mapping[str, str]) -> None:
    """Write the summary of the platform ``document`` (an outcome) is about; a problem is
    noted in ``document["fleet"]``, never raised."""
    store = configured_store(env)
    platform, cluster = str(document.get("platform") or ""), str(document.get("cluster") or "")
    result = str(document.get("result", ""))
    if store is None or "/" not in platform or not cluster or result in UNCHANGED:
        return
    namespace, name = platform.split("/", 1)
    try:
        _record(store, cluster, namespace, name, removed=result == "removed", env=env)
    except GunjError as error:
        _note(document, f"the platform's fleet summary was not written: {error}")
    except Exception as error:  # the platform's outcome stands; the text may quote a secret
        _note(document, f"the platform's fleet summary was not written: {type(error).__name__}")


def _record(
    store: Store, cluster: str, namespace: str, name: str, *, removed: bool, env: Mapping[str, str]
) -> None:
    from ..engine.resource import read_platform

    if removed:
        summaries.forget(store, cluster, namespace, name)
        return
    engine = reconciler(cluster, env)
    stored = read_platform(engine.access, namespace, name)
    if stored is None:
        summaries.forget(store, cluster, namespace, name)
        return
    recorded = summaries.record(store, summaries.summary_of(engine.cluster, stored))
    if recorded is summaries.Recorded.CREATED:
        # The platform's first summary, or the first since the store was lost: what its alerts
        # rolled back goes back into the fleet's quarantines (each is created once; one there
        # already stands).
        for entry in _alert_quarantines(engine.cluster, stored):
            quarantines.quarantine(store, entry)


def _alert_quarantines(
    cluster: str, stored: StoredPlatform, incident: str | None = None
) -> list[quarantines.FleetQuarantine]:
    """The fleet quarantines ``stored``'s status records (those of ``incident`` alone, when
    given)."""
    charts = {c: r.chart for c, r in stored.status.components.items() if r.chart}
    recorded = [
        q for q in stored.status.quarantined_versions if incident is None or q.incident == incident
    ]
    platform = f"{stored.namespace}/{stored.name}"
    return quarantines.from_platform_record(cluster, platform, charts, recorded)


@dataclass(frozen=True)
class FleetWide:
    """An alert's outcome as the fleet store was told of it, and the rollouts it halted."""

    outcome: Outcome
    halted: tuple[str, ...] = ()


def quarantine_fleet_wide(outcome: Outcome, incident: str, env: Mapping[str, str]) -> FleetWide:
    """After an alert rolled a component back (``outcome``), hold what it returned from on
    every cluster (the platform's status names it: its quarantine with this ``incident``) and
    halt every upgrade rollout of that chart and version: no later wave gets it. The outcome
    says what is held fleet-wide, or that the store could not be told."""
    store = configured_store(env)
    if store is None or outcome.result != "rolled-back" or "/" not in outcome.platform:
        return FleetWide(outcome)
    from ..engine.resource import read_platform
    from ..fleet.rollouts import halt_for_quarantine

    namespace, name = outcome.platform.split("/", 1)
    halted: list[str] = []
    try:
        engine = reconciler(outcome.cluster, env)
        stored = read_platform(engine.access, namespace, name)
        if stored is None:
            return FleetWide(outcome)
        entries = _alert_quarantines(engine.cluster, stored, incident)
        for entry in entries:
            quarantines.quarantine(store, entry)
            why = (
                f"alert rollback of {entry.component} {entry.chart_version} on "
                f"{entry.cluster}/{entry.platform}"
            )
            halted += halt_for_quarantine(
                store, entry.component, entry.chart, entry.chart_version, why
            )
    except Exception as error:  # the rollback stands: an error here must not redeliver it
        why = str(error) if isinstance(error, GunjError) else f"unexpected {type(error).__name__}"
        return FleetWide(
            replace(
                outcome,
                message=f"{outcome.message}. The fleet store was not told, so the other "
                f"clusters do not hold it yet and its rollouts may go on: {why}",
            ),
            tuple(halted),
        )
    if not entries:
        return FleetWide(outcome)
    held = "; ".join(entry.describe() for entry in entries)
    message = f"{outcome.message}. Held on every cluster: {held}"
    if halted:
        log_line("NOTICE", f"rollback: rollouts halted: {', '.join(halted)}", function="rollback")
        message += f". Rollouts halted: {', '.join(halted)}"
    return FleetWide(replace(outcome, message=message), tuple(halted))


def _note(document: dict[str, Any], note: str) -> None:
    document["fleet"] = f"{document['fleet']}; {note}" if document.get("fleet") else note

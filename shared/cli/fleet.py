"""The fleet as one, at a terminal: ``gunj status`` without ``--cluster`` (every platform of
every registered cluster), ``gunj fleet`` (a summary of them all) and ``gunj unquarantine ...
--fleet`` (lift a quarantine on every cluster).

The platforms come from the fleet store's summaries when a store is configured, or, with
``--live`` (and always without a store), from every registered cluster, asked at once, each
with the cluster requests' own timeouts: a cluster that cannot be reached is listed with why,
and holds up no other. Exit codes as :mod:`.conventions` says: 3 when a cluster (or the store)
could not be reached, so the view is not whole.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..clusters import ClusterRegistry
from ..engine.quarantine import named_by
from ..engine.resource import list_platforms
from ..errors import GunjError
from ..fleet import quarantines, summaries
from ..fleet.settings import DATABASE, EMULATOR, PROJECT
from ..fleet.store import FleetStoreError, Store, configured_store
from ..kube.errors import ApiError
from ..values.spec import COMPONENTS
from .conventions import DONE, PERMANENT, TRANSIENT, add_output, emit
from .table import print_table
from .target import access, reconciler

ROLLOUTS = "rollouts"
"""The fleet store's collection of rollouts (kept by the rollout functions)."""
IN_FLIGHT = frozenset({"running", "paused", "halted"})
WORKERS = 8
"""Clusters asked at once."""

T = TypeVar("T")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser(
        "fleet",
        help="summarise every registered cluster: platforms by phase, chart versions, "
        "quarantines, rollouts in flight, drift",
    )
    add_live(command)
    add_output(command)
    command.set_defaults(handler=run_fleet)


def add_live(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--live",
        action="store_true",
        help="ask every cluster now (at once), not the fleet store's summaries; without "
        "--cluster this is what happens when no fleet store is configured",
    )


def fleet_environment() -> dict[str, str]:
    """The process environment, with the local stack's fleet store when the process names
    none: the commands then reach the store the local functions write to."""
    env = dict(os.environ)
    if env.get(PROJECT):
        return env
    from ..localstack import stack as localstack

    running = localstack.recorded()
    if running is not None:
        stack = running.environment()
        env.update({k: stack[k] for k in (PROJECT, DATABASE, EMULATOR) if stack.get(k)})
    return env


def fleet_store() -> Store | None:
    return configured_store(fleet_environment())


# --- what the fleet is -------------------------------------------------------------------------


@dataclass
class FleetView:
    """Every platform of every registered cluster, and where they were read from."""

    source: str
    """``store`` (the summaries) or ``clusters`` (each asked now)."""
    clusters: dict[str, str | None]
    """Each registered cluster by name, with its rollout wave."""
    platforms: list[dict[str, Any]] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    """Clusters (or the store) that could not be read, with why."""
    note: str = ""

    @property
    def whole(self) -> bool:
        return not self.unreachable


def gather(live: bool, store: Store | None, registry: ClusterRegistry) -> FleetView:
    """The fleet's platforms: from the store's summaries, or (``live``, or no store) from
    every registered cluster at once."""
    clusters = {c.name: c.wave for c in registry.clusters()}
    if store is not None and not live:
        view = FleetView("store", clusters)
        try:
            view.platforms = summaries.list_all(store)
        except FleetStoreError as error:
            view.unreachable["fleet store"] = str(error)
        return view
    view = FleetView("clusters", clusters)
    if store is None:
        view.note = f"no fleet store is configured ({PROJECT} is not set): every cluster was asked"
    for cluster, found in each_cluster(list(clusters), _summaries_of):
        if isinstance(found, str):
            view.unreachable[cluster] = found
        else:
            view.platforms += found
    return view


def _summaries_of(cluster: str) -> list[dict[str, Any]]:
    at = datetime.now(UTC)
    return [summaries.summary_of(cluster, p, at) for p in list_platforms(access(cluster))]


def each_cluster(clusters: Iterable[str], work: Callable[[str], T]) -> list[tuple[str, T | str]]:
    """``work`` for every cluster, at once: each result, or why the cluster failed it."""

    def one(cluster: str) -> tuple[str, T | str]:
        try:
            return cluster, work(cluster)
        except ApiError as error:
            return cluster, str(error.doing(f"reading cluster {cluster!r}"))
        except GunjError as error:
            return cluster, str(error)

    names = list(clusters)
    if not names:
        return []
    with ThreadPoolExecutor(min(WORKERS, len(names))) as pool:
        return list(pool.map(one, names))


def report_of(view: FleetView, store: Store | None) -> dict[str, Any]:
    """The fleet summary ``gunj fleet`` prints."""
    platforms = view.platforms
    quarantined: list[dict[str, Any]] = []
    rollouts: list[dict[str, Any]] = []
    problems = dict(view.unreachable)
    if store is not None:
        try:
            quarantined = [q.to_json() for q in quarantines.list_all(store)]
            rollouts = [
                _rollout(fields)
                for _id, fields in store.list(ROLLOUTS)
                if fields.get("state") in IN_FLIGHT
            ]
        except FleetStoreError as error:
            problems["fleet store"] = str(error)
    return {
        "source": view.source,
        "store": store.describe() if store is not None else None,
        "note": view.note,
        "clusters": [_cluster(name, wave, view) for name, wave in view.clusters.items()],
        "unreachable": problems,
        "platforms": len(platforms),
        "phases": dict(sorted(Counter(str(p.get("phase")) for p in platforms).items())),
        "versions": _versions(platforms),
        "skew": sorted(c for c, v in _versions(platforms).items() if len(v) > 1),
        "quarantines": quarantined,
        "rollouts": rollouts,
        "drift": _drift(platforms),
    }


def _cluster(name: str, wave: str | None, view: FleetView) -> dict[str, Any]:
    mine = [p for p in view.platforms if p.get("cluster") == name]
    times = [p["updatedAt"] for p in mine if isinstance(p.get("updatedAt"), datetime)]
    reachable: bool | None = None
    if view.source == "clusters":
        reachable = name not in view.unreachable
    return {
        "name": name,
        "wave": wave,
        "reachable": reachable,
        "error": view.unreachable.get(name),
        "platforms": len(mine),
        "lastSummary": max(times) if view.source == "store" and times else None,
    }


def _where(summary: Mapping[str, Any]) -> str:
    return f"{summary.get('cluster')}/{summary.get('namespace')}/{summary.get('name')}"


def _versions(platforms: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Per component, each chart version that runs and where (``cluster/namespace/name``)."""
    versions: dict[str, dict[str, list[str]]] = {}
    for summary in platforms:
        for component, entry in (summary.get("components") or {}).items():
            if not isinstance(entry, Mapping) or not entry.get("chartVersion"):
                continue
            shown = f"{entry.get('chart') or component} {entry['chartVersion']}"
            versions.setdefault(component, {}).setdefault(shown, []).append(_where(summary))
    order = {c: i for i, c in enumerate(COMPONENTS)}
    return {c: versions[c] for c in sorted(versions, key=lambda c: order.get(c, len(order)))}


def _drift(platforms: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    drifted = []
    for summary in platforms:
        components = sorted(
            c
            for c, entry in (summary.get("components") or {}).items()
            if isinstance(entry, Mapping) and entry.get("drift")
        )
        if components:
            drifted.append({"platform": _where(summary), "components": components})
    return drifted


def _rollout(fields: Mapping[str, Any]) -> dict[str, Any]:
    waves = fields.get("waves") or []
    current = fields.get("current")
    wave = waves[current] if isinstance(current, int) and 0 <= current < len(waves) else None
    return {
        "id": fields.get("id"),
        "kind": fields.get("kind"),
        "component": fields.get("component"),
        "toVersion": fields.get("toVersion"),
        "state": fields.get("state"),
        "wave": wave.get("name") if isinstance(wave, Mapping) else None,
        "haltedBy": fields.get("haltedBy"),
    }


# --- the commands ------------------------------------------------------------------------------


def run_fleet(arguments: argparse.Namespace) -> int:
    store = fleet_store()
    view = gather(arguments.live, store, ClusterRegistry.load())
    report = report_of(view, store)
    if arguments.output != "table":
        emit(report, arguments.output)
    else:
        _print_fleet(report)
    return DONE if not report["unreachable"] else TRANSIENT


def run_fleet_status(arguments: argparse.Namespace) -> int:
    """``gunj status`` without ``--cluster``: every platform of every cluster (the ones named
    NAME or NAMESPACE/NAME, when one is given)."""
    store = fleet_store()
    view = gather(arguments.live, store, ClusterRegistry.load())
    platforms = [p for p in view.platforms if _named(p, arguments.platform)]
    platforms.sort(key=lambda p: (p.get("cluster"), p.get("namespace"), p.get("name")))
    if arguments.output != "table":
        emit(
            {
                "source": view.source,
                "note": view.note,
                "platforms": platforms,
                "unreachable": view.unreachable,
            },
            arguments.output,
        )
    else:
        _print_platforms(platforms, view)
    if arguments.platform and not platforms and view.whole:
        print(f"gunj status: no platform {arguments.platform} in the fleet", file=sys.stderr)
        return PERMANENT
    return DONE if view.whole else TRANSIENT


def _named(summary: Mapping[str, Any], platform: str | None) -> bool:
    if not platform:
        return True
    return platform in {summary.get("name"), f"{summary.get('namespace')}/{summary.get('name')}"}


def run_fleet_unquarantine(arguments: argparse.Namespace) -> int:
    """Lift the fleet-wide quarantine of what VERSION names, then every platform's own hold of
    it on every registered cluster that can be reached (those that cannot are named: their
    platforms keep their own hold until lifted there)."""
    store = fleet_store()
    if store is None:
        print(
            f"gunj unquarantine: --fleet needs the fleet store, and none is configured "
            f"({PROJECT} is not set); lift it per cluster with --cluster",
            file=sys.stderr,
        )
        return PERMANENT
    component, what = arguments.component, arguments.version
    lifted = [q.to_json() for q in quarantines.lift(store, component, what)]
    registry = ClusterRegistry.load()
    platforms: list[dict[str, Any]] = []
    unreachable: dict[str, str] = {}
    for cluster, found in each_cluster(
        registry.names(), lambda cluster: _lift_on(cluster, component, what)
    ):
        if isinstance(found, str):
            unreachable[cluster] = found
        else:
            platforms += found
    document = {
        "component": component,
        "version": what,
        "fleet": lifted,
        "platforms": platforms,
        "unreachable": unreachable,
    }
    if arguments.output != "table":
        emit(document, arguments.output)
    else:
        _print_lifted(document)
    if unreachable or any(p["transient"] for p in platforms):
        return TRANSIENT
    if not lifted and not platforms:
        print(
            f"gunj unquarantine: {component} {what} is quarantined nowhere in the fleet",
            file=sys.stderr,
        )
        return PERMANENT
    return DONE


def _lift_on(cluster: str, component: str, what: str) -> list[dict[str, Any]]:
    """Lift every platform's own hold of ``what`` in ``cluster``; what each said."""
    held = [
        p
        for p in list_platforms(access(cluster))
        if any(named_by(q, component, what) for q in p.status.quarantined_versions)
    ]
    if not held:
        return []
    engine = reconciler(cluster)
    lifted = []
    for platform in held:
        outcome = engine.unquarantine(platform.namespace, platform.name, component, what)
        lifted.append(
            {
                "cluster": cluster,
                "platform": f"{platform.namespace}/{platform.name}",
                "result": outcome.result,
                "message": outcome.message,
                "transient": outcome.transient,
            }
        )
    return lifted


def still_held_note(component: str, what: str) -> str | None:
    """After a platform's own hold was lifted: whether the fleet still holds it, and how to
    lift that (None: it does not, or there is no store)."""
    store = fleet_store()
    if store is None:
        return None
    try:
        held = [q for q in quarantines.list_all(store) if q.named_by(component, what)]
    except FleetStoreError as error:
        return f"whether the fleet also holds it is unknown: {error}"
    if not held:
        return None
    where = "; ".join(f"{q.describe()} ({q.origin()})" for q in held)
    return f"still quarantined fleet-wide: {where}; lift it everywhere with --fleet"


# --- printing ----------------------------------------------------------------------------------


def _age(at: Any) -> str:
    if not isinstance(at, datetime):
        return "-"
    seconds = max(0, int((datetime.now(UTC) - at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _components(summary: Mapping[str, Any]) -> str:
    parts = []
    for component, entry in (summary.get("components") or {}).items():
        if isinstance(entry, Mapping):
            version = entry.get("chartVersion") or "-"
            parts.append(f"{component} {version} {entry.get('state') or '-'}")
    return ", ".join(parts) or "-"


def _print_platforms(platforms: list[dict[str, Any]], view: FleetView) -> None:
    if view.note:
        print(f"({view.note})")
    if platforms:
        rows = [("CLUSTER", "PLATFORM", "PHASE", "READY", "COMPONENTS", "UPDATED")]
        rows += [
            (
                str(p.get("cluster")),
                f"{p.get('namespace')}/{p.get('name')}",
                str(p.get("phase")),
                "yes" if p.get("ready") else "no",
                _components(p),
                _age(p.get("updatedAt")) if view.source == "store" else "now",
            )
            for p in platforms
        ]
        print_table(rows)
    else:
        print("no platforms in the fleet")
    for where, error in view.unreachable.items():
        print(f"unreachable: {where}: {error}")


def _print_fleet(report: Mapping[str, Any]) -> None:
    source = "the fleet store" if report["source"] == "store" else "every cluster, now"
    print(f"fleet ({report['platforms']} platform(s), from {source})")
    if report["note"]:
        print(f"  ({report['note']})")
    rows = [("CLUSTER", "WAVE", "REACHABLE", "PLATFORMS", "LAST SUMMARY", "ERROR")]
    for cluster in report["clusters"]:
        reachable = cluster["reachable"]
        rows.append(
            (
                cluster["name"],
                cluster["wave"] or "-",
                "-" if reachable is None else ("yes" if reachable else "NO"),
                str(cluster["platforms"]),
                _age(cluster["lastSummary"]) + (" ago" if cluster["lastSummary"] else ""),
                cluster["error"] or "",
            )
        )
    print_table(rows, indent="  ")
    phases = ", ".join(f"{phase} {count}" for phase, count in report["phases"].items())
    print(f"phases: {phases or 'none'}")
    print("versions:")
    for component, versions in report["versions"].items():
        skew = " (skew)" if component in report["skew"] else ""
        for version, where in versions.items():
            print(f"  {component}{skew}: {version} on {len(where)}: {', '.join(where)}")
    if report["quarantines"]:
        print("quarantined fleet-wide:")
        for q in report["quarantines"]:
            digest = f" values {q['digest'][: quarantines.SHORT_DIGEST]}" if q["digest"] else ""
            print(
                f"  {q['component']} {q['chart']} {q['chartVersion']}{digest}: rolled back on "
                f"{q['cluster']} ({q['platform']}) since {q['since']}: {q['reason']}"
            )
    if report["rollouts"]:
        print("rollouts in flight:")
        for r in report["rollouts"]:
            halted = f" (halted by {r['haltedBy']})" if r["haltedBy"] else ""
            print(
                f"  {r['id']}: {r['component'] or r['kind']} -> {r['toVersion'] or '-'}, "
                f"{r['state']} in wave {r['wave'] or '-'}{halted}"
            )
    for drifted in report["drift"]:
        print(f"drifted: {drifted['platform']}: {', '.join(drifted['components'])}")
    for where, error in report["unreachable"].items():
        print(f"unreachable: {where}: {error}")


def _print_lifted(document: Mapping[str, Any]) -> None:
    what = f"{document['component']} {document['version']}"
    if document["fleet"]:
        for q in document["fleet"]:
            print(f"lifted fleet-wide: {q['component']} {q['chart']} {q['chartVersion']}")
    else:
        print(f"{what} was not quarantined fleet-wide")
    for p in document["platforms"]:
        print(f"{p['cluster']}/{p['platform']}: {p['result']} ({p['message']})")
    for cluster, error in document["unreachable"].items():
        print(f"unreachable: {cluster}: {error} (its platforms keep their own hold)")

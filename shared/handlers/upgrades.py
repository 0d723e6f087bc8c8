"""The ``upgrades`` function: a scheduled tick on ``upgrade-checks`` checks every platform of
every registered cluster (a message may narrow it: ``{"clusters": [...], "platform": "..."}``),
publishes one report per platform and a fleet summary to ``upgrade-reports``, keeps each
platform's latest summary in its status, and publishes the automatic upgrades the specs allow
to ``platform-specs`` (``source: upgrade-check``, the next generation), so they go through
reconcile, verification, the bake window and alert rollback like any other change.

A cluster or repository that fails is reported for what depends on it; the rest is still
checked, and the tick is acknowledged (the next one checks again). So is a tick whose work
deadline (``GUNJ_WORK_SECONDS``) comes first: the clusters and platforms left are named in the
summary as not checked."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml

from ..cache import cache_root
from ..documents import DocumentError
from ..engine.outcome import Outcome
from ..engine.request import Request
from ..engine.resource import StoredPlatform, write_upgrades
from ..engine.session import Session
from ..errors import GunjError
from ..events.log import log_line
from ..events.pubsub import InvalidEvent, from_cloud_event
from ..fleet.store import configured_store
from ..helm.repositories import RepositorySettings
from ..upgrades.catalog import RunCatalog
from ..upgrades.run import (
    FleetQuarantined,
    PlatformReport,
    check_fleet,
    in_flight,
    proposed_spec,
)
from ..values.spec.status import UpgradeProposal, UpgradeSummary
from .deadline import work_deadline
from .outcomes import Redeliver, publisher, request_headers, trace_field, trace_of, unexpected
from .reconcilers import access, reconciler, registry
from .topics import REPORTS, SPECS

FUNCTION = "upgrades"
# Time kept after the checks (at most a fifth of the work's) for recording each platform's
# summary and proposal: one Lease, one status write and at most one publish each.
RECORD_SECONDS = 60.0


def _scope(event: Any) -> tuple[list[str] | None, str | None]:
    try:
        message = from_cloud_event(event)
        data = message.tick()
    except (InvalidEvent, DocumentError):
        return None, None  # a tick with anything else in it checks everything
    if not isinstance(data, dict):
        return None, None
    clusters = data.get("clusters")
    platform = data.get("platform")
    return (
        [str(c) for c in clusters] if isinstance(clusters, list) else None,
        str(platform) if isinstance(platform, str) else None,
    )


def handle(event: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Check the fleet; return the fleet summary. A failure of the whole run (the registry
    unreadable, or an exception nothing turned into a report) is logged and published to
    ``upgrade-reports`` as a transient ``error``, and the tick is delivered again. An unforeseen
    exception is named by its type only: its text may hold a secret."""
    env = os.environ if env is None else env
    started = time.monotonic()
    try:
        return _check(event, env, started)
    except Redeliver:  # already the way to be delivered again (publishing failed)
        raise
    except Exception as error:
        failed = (
            Outcome("error", str(error), transient_error=True)
            if isinstance(error, GunjError)
            else unexpected(error)
        )
    # Reported outside the except block, so nothing raised from here carries the exception.
    document = {
        "kind": "fleet",
        "checked_at": datetime.now(UTC).isoformat(),
        "result": failed.result,
        "message": failed.message,
        "transient": failed.transient,
        "duration": round(time.monotonic() - started, 3),
    }
    log_line(
        "ERROR",
        f"{FUNCTION}: {failed.message}",
        function=FUNCTION,
        **{k: v for k, v in document.items() if k not in {"kind", "message"}},
        **trace_field(trace_of(event, request_headers()), env),
    )
    publisher(env).publish(REPORTS, document, kind="fleet")
    raise Redeliver(f"{FUNCTION}: {failed.message}")


def _check(event: Any, env: Mapping[str, str], started: float) -> dict[str, Any]:
    clusters, platform = _scope(event)
    known = registry(env)
    names = known.names() if clusters is None else [c for c in clusters if c in known.names()]
    catalog = RunCatalog.for_run(RepositorySettings.from_environment(env), cache_root())
    # Checking stops at the work deadline, so the reports are published before the instance
    # is stopped; what is left waits for the next tick (a redelivery would check it all again).
    deadline = work_deadline(env, started)
    reports, failed = check_fleet(
        names,
        lambda name, namespace=None: access(name, env, namespace),
        catalog,
        platform=platform,
        until=deadline - min(RECORD_SECONDS, (deadline - started) / 5),
        fleet_store=configured_store(env),
    )
    out = publisher(env)
    rollouts = _rollouts(reports, names, env)
    proposed = 0
    for report in reports:
        if time.monotonic() < deadline:
            proposed += record_report(report, env)
        else:
            report.proposal_note = "not recorded nor proposed: the run's time was up"
            report.proposal = {}
        out.publish(
            REPORTS,
            report.to_json(),
            kind="platform",
            platform=report.platform,
            cluster=report.cluster,
        )
    summary = {
        "kind": "fleet",
        "checked_at": datetime.now(UTC).isoformat(),
        "clusters": names,
        "cluster_errors": failed,
        "platforms": len(reports),
        "upgradable": sum(1 for r in reports if r.available() != "none"),
        "proposed": proposed,
        "repositories": {
            location: {"fetches": count, "error": catalog.failures().get(location)}
            for location, count in catalog.fetches.items()
        },
        "duration": round(time.monotonic() - started, 3),
        **({"rollouts": rollouts} if rollouts is not None else {}),
    }
    out.publish(REPORTS, summary, kind="fleet")
    log_line(
        "WARNING" if failed or catalog.failures() else "INFO",
        f"{FUNCTION}: {len(reports)} platform(s) checked, {summary['upgradable']} upgradable, "
        f"{proposed} automatic upgrade(s) proposed",
        function=FUNCTION,
        **{k: v for k, v in summary.items() if k != "kind"},
        **trace_field(trace_of(event, request_headers()), env),
    )
    return summary


def _rollouts(
    reports: list[PlatformReport], checked: list[str], env: Mapping[str, str]
) -> dict[str, Any] | None:
    """With a fleet store: the automatic proposals become rollouts, and only those of clusters
    in their rollout's current wave stay in the reports (:mod:`shared.upgrades.rollouts`);
    every running rollout takes its step. What the rollouts did (None: no store)."""
    store = configured_store(env)
    if store is None:
        return None
    from ..clusters import RegistryError
    from ..fleet.rollouts import bake_seconds
    from ..upgrades.rollouts import gate_proposals

    try:
        waves = registry(env).waves()
    except RegistryError as error:
        for report in reports:
            if report.proposal:
                report.proposal_note = f"not proposed now: no rollout can start: {error}"
                report.proposal = {}
        return {"error": str(error)}
    gated = gate_proposals(store, waves, reports, checked, publisher(env), bake=bake_seconds(env))
    if gated.problem:
        return {"error": gated.problem}
    return {
        step.rollout.id: {
            "state": step.rollout.state,
            "wave": step.rollout.waves[step.rollout.current].name
            if step.rollout.current < len(step.rollout.waves)
            else None,
            "published": step.published,
        }
        for step in gated.steps
    }


def record_report(report: PlatformReport, env: Mapping[str, str]) -> int:
    """Keep the report's summary in the platform's status and, if the spec allows an automatic
    upgrade, propose it; 1 when one was proposed. Under the platform's Lease: a busy platform
    is left for the next tick.

    The check read the platform earlier, without the Lease. Under it, the platform is read
    again, and the proposal is made only if it still stands: the spec is the one the check
    saw (a spec published since would be reverted by a proposal worked out from the old one),
    no other proposal is in flight, and no proposed version has been quarantined since, on
    the platform or, with a fleet store, on every cluster (read again under the Lease). The
    proposal is recorded in the status only once it is published, so a publish that fails
    leaves nothing that holds the next tick back."""
    engine = reconciler(report.cluster, env)
    store = configured_store(env)
    published: list[UpgradeProposal] = []

    def work(session: Session) -> Outcome:
        stored = session.stored
        proposal = stored.status.upgrades.proposal if stored.status.upgrades else None
        if report.proposal:
            fleet = FleetQuarantined.read(store) if store is not None else None
            if reason := _stale(report, stored, fleet):
                report.proposal_note = f"not proposed now: {reason}"
                report.proposal = {}
            else:
                made = _publish(report, stored, env)
                if made is not None:
                    proposal = made
                    published.append(made)
        summary = UpgradeSummary.model_validate(
            {"checkedAt": report.checked_at, "available": report.available(), "proposal": proposal}
        )
        write_upgrades(session.parts.access, stored.namespace, stored.name, summary)
        return Outcome("ready", "recorded")

    outcome = engine.on_platform(report.namespace, report.name, Request(), work)
    if published:
        report.proposal_note = f"proposed as generation {published[0].generation}" + (
            "" if outcome.result == "ready" else f" (not recorded in status: {outcome.message})"
        )
        return 1
    if report.proposal:
        if not report.proposal_note:
            report.proposal_note = f"not proposed now: {outcome.message}"
        report.proposal = {}
    return 0


def _stale(
    report: PlatformReport, stored: StoredPlatform, fleet: FleetQuarantined | None = None
) -> str:
    """Why the report's proposal no longer stands for the platform as it is now, or for the
    fleet's quarantines as read now (``fleet``; None: no fleet store) ("": it does)."""
    if report.stored is None:
        return "the check did not read the platform"
    if stored.spec != report.stored.spec:
        return (
            "the spec changed since the check read it "
            f"(now generation {stored.published_generation or '-'}); the next check works "
            "from the new one"
        )
    if (busy := in_flight(stored, datetime.now(UTC))) is not None:
        return f"an automatic change (generation {busy.generation}) is in flight"
    quarantined = {
        (q.component, q.chart_version)
        for q in stored.status.quarantined_versions
        if q.whole_version
    }
    held = [f"{c} {v}" for c, v in report.proposal.items() if (c, v) in quarantined]
    if held:
        return f"quarantined since the check: {', '.join(held)}"
    return _held_fleet_wide(report, fleet) if fleet is not None else ""


def _held_fleet_wide(report: PlatformReport, fleet: FleetQuarantined) -> str:
    """Why the fleet's quarantines hold the report's proposal back ("": they do not); a store
    that could not be read holds it back too, since it could hold a proposed version."""
    if fleet.unreadable:
        return fleet.unreadable
    charts = {c.component: c.chart for c in report.components}
    held = [
        f"{c} {v}" for c, v in report.proposal.items() if v in fleet.versions(c, charts.get(c, ""))
    ]
    if held:
        return f"quarantined fleet-wide since the check: {', '.join(held)}"
    return ""


def _publish(
    report: PlatformReport, stored: StoredPlatform, env: Mapping[str, str]
) -> UpgradeProposal | None:
    """Publish the proposal as the spec's next generation, built from the platform as stored
    now; the proposal, or None (with why in the report) when publishing failed."""
    generation = (stored.published_generation or 0) + 1
    try:
        message_id = publisher(env).publish_raw(
            SPECS,
            yaml.safe_dump(proposed_spec(stored, report.proposal)).encode(),
            cluster=report.cluster,
            generation=str(generation),
            source="upgrade-check",
        )
    except Redeliver as error:
        report.proposal_note = f"not proposed now: {error}"
        report.proposal = {}
        return None
    return UpgradeProposal.model_validate(
        {
            "generation": generation,
            "versions": report.proposal,
            "time": datetime.now(UTC),
            "messageId": message_id,
        }
    )

"""The ``upgrades`` function: a scheduled tick on ``upgrade-checks`` checks every platform of
every registered cluster (a message may narrow it: ``{"clusters": [...], "platform": "..."}``),
publishes one report per platform and a fleet summary to ``upgrade-reports``, keeps each
platform's latest summary in its status, and publishes the automatic upgrades the specs allow
to ``platform-specs`` (``source: upgrade-check``, the next generation), so they go through
reconcile, verification, the bake window and alert rollback like any other change.

A cluster or repository that fails is reported for what depends on it; the rest is still
checked, and the tick is acknowledged (the next one checks again)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml

from ..cache import cache_root
from ..engine.context import EngineContext
from ..engine.outcome import Outcome
from ..engine.platform import Request
from ..engine.record import Recorder
from ..engine.resource import StoredPlatform, write_upgrades
from ..events.log import log_line
from ..events.pubsub import InvalidEvent, from_cloud_event
from ..helm.repositories import RepositorySettings
from ..upgrades.catalog import RunCatalog
from ..upgrades.run import PlatformReport, check_fleet, proposed_spec
from ..values.spec.status import UpgradeProposal, UpgradeSummary
from .outcomes import Redeliver, publisher, request_headers, trace_field, trace_of
from .reconcilers import reconciler, registry
from .topics import REPORTS, SPECS

FUNCTION = "upgrades"


def _scope(event: Any) -> tuple[list[str] | None, str | None]:
    try:
        message = from_cloud_event(event)
        data = json.loads(message.data) if message.data.strip() else {}
    except (InvalidEvent, ValueError):
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
    env = os.environ if env is None else env
    started = time.monotonic()
    clusters, platform = _scope(event)
    known = registry(env)
    names = known.names() if clusters is None else [c for c in clusters if c in known.names()]
    catalog = RunCatalog.for_run(RepositorySettings.from_environment(env), cache_root())
    reports, failed = check_fleet(
        names, lambda name: reconciler(name, env).access, catalog, platform=platform
    )
    out = publisher(env)
    proposed = 0
    for report in reports:
        proposed += _record(report, env)
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


def _record(report: PlatformReport, env: Mapping[str, str]) -> int:
    """Keep the report's summary in the platform's status and, if the spec allows an automatic
    upgrade and none is in flight, propose it; 1 when one was proposed. Under the platform's
    Lease: a busy platform is left for the next tick."""
    engine = reconciler(report.cluster, env)
    proposal_made: list[UpgradeProposal] = []

    def work(stored: StoredPlatform, recorder: Recorder, ctx: EngineContext) -> Outcome:
        proposal = stored.status.upgrades.proposal if stored.status.upgrades else None
        if report.proposal:
            proposal = UpgradeProposal.model_validate(
                {
                    "generation": (stored.published_generation or 0) + 1,
                    "versions": report.proposal,
                    "time": datetime.now(UTC),
                }
            )
            proposal_made.append(proposal)
        summary = UpgradeSummary.model_validate(
            {"checkedAt": report.checked_at, "available": report.available(), "proposal": proposal}
        )
        write_upgrades(engine.access, stored.namespace, stored.name, summary)
        return Outcome("ready", "recorded")

    outcome = engine.on_platform(report.namespace, report.name, Request(), work)
    if outcome.result != "ready" or not proposal_made:
        if report.proposal:
            report.proposal_note = f"not proposed now: {outcome.message}"
            report.proposal = {}
        return 0
    proposal = proposal_made[0]
    try:
        publisher(env).publish_raw(
            SPECS,
            yaml.safe_dump(proposed_spec(report)).encode(),
            cluster=report.cluster,
            generation=str(proposal.generation),
            source="upgrade-check",
        )
    except Redeliver as error:
        report.proposal_note = str(error)
        return 0
    report.proposal_note = f"proposed as generation {proposal.generation}"
    return 1

"""The fleet's pure parts: what a fleet quarantine holds and how it is named, how the engine
says a component is held fleet-wide (and that the store could not be read), a platform's
summary, which summary may replace which, the fleet report's skew and drift, and Google's
errors as the store's typed ones. (Against the real Firestore emulator:
tests/cluster/test_fleet_store.py.)"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from google.api_core import exceptions
from google.auth.exceptions import DefaultCredentialsError

from shared.cli.fleet import FleetView, report_of
from shared.engine.action import Action
from shared.engine.admission import spec_digest
from shared.engine.decide import Decision
from shared.engine.loop import ComponentRun, Forced, _hold
from shared.engine.quarantine import Held, why_held
from shared.engine.record import Recorder
from shared.engine.resource import StoredPlatform, platform_of
from shared.engine.wanted import Wanted
from shared.fleet import quarantines, summaries
from shared.fleet.store import StoreRefused, StoreUnavailable, _typed
from shared.kube.events import ObjectRef
from shared.redaction import Redactor
from shared.values.spec.status import ComponentState, PlatformStatus, QuarantinedVersion
from tests.unit.test_engine_decisions import desired, observed

SINCE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def entry(version: str = "29.27.0", digest: str | None = None) -> quarantines.FleetQuarantine:
    return quarantines.FleetQuarantine(
        component="prometheus",
        chart="prometheus",
        chart_version=version,
        reason="PrometheusNotReady fired within the bake window",
        cluster="local",
        platform="monitoring/obs",
        incident="alertmanager/fp-1",
        digest=digest,
        since=SINCE,
    )


def test_the_same_thing_held_twice_is_one_document_and_content_is_another() -> None:
    assert (
        entry().id == entry().id == quarantines.quarantine_id("prometheus", "prometheus", "29.27.0")
    )
    assert len(entry().id) == 32
    assert entry(digest="a" * 64).id != entry().id
    assert entry("29.26.0").id != entry().id
    back = quarantines.FleetQuarantine.from_fields(entry(digest="b" * 64).to_fields())
    assert back == entry(digest="b" * 64)


def test_a_version_held_whole_holds_every_content_of_it_and_a_digest_only_its_own() -> None:
    held = quarantines.FleetHeld((entry(), entry("29.26.0", digest="c" * 64)))
    assert held.holding("29.27.0", "anything") == entry()
    assert held.holding("29.26.0", "c" * 64) == entry("29.26.0", digest="c" * 64)
    assert held.holding("29.26.0", "d" * 64) is None
    assert held.versions == frozenset({"29.27.0"})
    assert entry().named_by("prometheus", "29.27.0")
    assert not entry().named_by("grafana", "29.27.0")
    assert entry(digest="e" * 64).named_by("prometheus", "e" * 12)
    assert not entry(digest="e" * 64).named_by("prometheus", "e" * 11)


def test_only_what_an_alert_rolled_back_is_rebuilt_into_the_fleet_from_a_platform() -> None:
    recorded = [
        QuarantinedVersion.model_validate(
            {
                "component": "prometheus",
                "chartVersion": "29.27.0",
                "reason": "alert",
                "since": SINCE,
                "incident": "alertmanager/fp-1",
            }
        ),
        QuarantinedVersion.model_validate(
            {
                "component": "prometheus",
                "chartVersion": "29.25.0",
                "reason": "rolled back by a person",
                "since": SINCE,
            }
        ),
    ]
    rebuilt = quarantines.from_platform_record(
        "local", "monitoring/obs", {"prometheus": "prometheus"}, recorded
    )
    assert [(q.chart_version, q.cluster, q.incident) for q in rebuilt] == [
        ("29.27.0", "local", "alertmanager/fp-1")
    ]


@dataclass
class FleetHolding:
    """What the fleet holds, as :class:`shared.fleet.holds.StoreHolds` answers (no store)."""

    held: quarantines.FleetHeld
    noted: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return self.noted

    def fresh(self) -> FleetHolding:
        return self

    def why_held(self, component: str, chart: str, version: str, digest: str) -> str | None:
        found = self.held.holding(version, digest) if component == "prometheus" else None
        return found.origin() if found else None


def test_a_version_quarantined_fleet_wide_is_held_where_and_why_and_how_to_lift_it() -> None:
    fleet = FleetHolding(quarantines.FleetHeld((entry(),)))
    why = why_held(
        desired(version="29.27.0"),
        observed(chart_version="29.26.0", content_digest="old"),
        "obs",
        Held(fleet=fleet),
    )
    assert why is not None
    assert "quarantined fleet-wide (rolled back on cluster local (monitoring/obs)" in why
    assert "kept at revision 3 (29.26.0)" in why
    assert "gunj unquarantine monitoring/obs prometheus 29.27.0 --fleet" in why
    # Another version is not held by it.
    assert why_held(desired(version="29.28.0"), observed(), "obs", Held(fleet=fleet)) is None


def test_a_platforms_own_quarantine_is_named_before_the_fleets() -> None:
    fleet = FleetHolding(quarantines.FleetHeld((entry(),)))
    why = why_held(
        desired(version="29.27.0"),
        observed(chart_version="29.26.0", content_digest="old"),
        "obs",
        Held(versions=frozenset({"29.27.0"}), fleet=fleet),
    )
    assert why is not None and "quarantined on this platform" in why


def stored(**status: Any) -> StoredPlatform:
    return StoredPlatform(
        name="obs",
        namespace="monitoring",
        uid="u",
        generation=4,
        published_generation=4,
        spec={"prometheus": {"chartVersion": "29.27.0", "remediation": {"bakeWindow": "30m"}}},
        status=PlatformStatus.model_validate(status),
        deleting=False,
    )


def test_a_summary_says_what_the_status_says_and_when_the_change_bakes_until() -> None:
    changed = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    platform = stored(
        phase="Ready",
        observedGeneration=4,
        conditions=[
            {"type": "Ready", "status": "True", "reason": "InSync", "lastTransitionTime": changed}
        ],
        components={
            "prometheus": {
                "mode": "helm",
                "state": "Drifted",
                "chart": "prometheus",
                "chartVersion": "29.27.0",
                "lastChanged": changed,
            }
        },
    )
    summary = summaries.summary_of("local", platform, SINCE)
    assert summaries.summary_id("local", "monitoring", "obs") == "local~monitoring~obs"
    assert (summary["phase"], summary["ready"], summary["observedGeneration"]) == (
        "Ready",
        True,
        4,
    )
    assert summary["components"]["prometheus"] == {
        "chart": "prometheus",
        "chartVersion": "29.27.0",
        "state": "Drifted",
        "mode": "helm",
        "drift": True,
        "changedAt": changed,
        "bakeUntil": changed + timedelta(minutes=30),
    }
    assert summary["lastRollback"] is None and summary["updatedAt"] == SINCE
    # The spec it reconciled, as a rollout of a spec names it; none while a newer one waits.
    assert summary["specDigest"] == spec_digest(platform_of(platform))
    newer = replace(platform, generation=5)
    assert summaries.summary_of("local", newer, SINCE)["specDigest"] is None


def test_an_older_summary_never_replaces_a_newer_one() -> None:
    newer = {"observedGeneration": 5, "updatedAt": SINCE}
    assert not summaries._newer({"observedGeneration": 4, "updatedAt": SINCE}, newer)
    assert not summaries._newer(
        {"observedGeneration": 5, "updatedAt": SINCE - timedelta(seconds=1)}, newer
    )
    assert summaries._newer({"observedGeneration": 5, "updatedAt": SINCE}, newer)
    assert summaries._newer(
        {"observedGeneration": 6, "updatedAt": SINCE + timedelta(seconds=1)}, newer
    )


def summary(cluster: str, version: str, *, drift: bool = False, phase: str = "Ready") -> Any:
    return {
        "cluster": cluster,
        "namespace": "monitoring",
        "name": "obs",
        "phase": phase,
        "components": {
            "prometheus": {"chart": "prometheus", "chartVersion": version, "drift": drift},
            "tempo": {"chart": "tempo", "chartVersion": "2.2.4", "drift": False},
        },
    }


def test_the_fleet_report_shows_version_skew_phases_drift_and_unreachable_clusters() -> None:
    view = FleetView(
        "clusters",
        {"local": "canary", "local-2": "early", "local-3": "main", "gone": None},
        [
            summary("local", "29.27.0"),
            summary("local-2", "29.26.0", drift=True),
            summary("local-3", "29.26.0", phase="Degraded"),
        ],
        {"gone": "cluster 'gone': connection refused"},
    )
    report = report_of(view, None)
    assert report["versions"]["prometheus"] == {
        "prometheus 29.27.0": ["local/monitoring/obs"],
        "prometheus 29.26.0": ["local-2/monitoring/obs", "local-3/monitoring/obs"],
    }
    assert report["skew"] == ["prometheus"]
    assert report["phases"] == {"Degraded": 1, "Ready": 2}
    assert report["drift"] == [{"platform": "local-2/monitoring/obs", "components": ["prometheus"]}]
    clusters = {c["name"]: c for c in report["clusters"]}
    assert (clusters["gone"]["reachable"], clusters["local"]["reachable"]) == (False, True)
    assert clusters["local-2"]["wave"] == "early"
    assert report["unreachable"] == {"gone": "cluster 'gone': connection refused"}


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (exceptions.ServiceUnavailable("down"), StoreUnavailable),
        (exceptions.DeadlineExceeded("slow"), StoreUnavailable),
        (exceptions.RetryError("gave up", exceptions.ServiceUnavailable("down")), StoreUnavailable),
        (exceptions.PermissionDenied("no"), StoreRefused),
        (exceptions.NotFound("no database"), StoreRefused),
        (DefaultCredentialsError("no credentials"), StoreRefused),
    ],
)
def test_googles_errors_become_the_stores_transient_or_permanent_ones(
    error: Exception, kind: type[Exception]
) -> None:
    typed = _typed(error, "fleet store (project p) reading quarantines")
    assert isinstance(typed, kind)
    assert str(typed).startswith("fleet store (project p) reading quarantines: ")
    assert typed.transient is (kind is StoreUnavailable)
    assert _typed(ValueError("a defect"), "x") is None


@dataclass
class Emitted:
    """The Events a recorder sends, kept here instead of on a cluster."""

    events: list[tuple[str, str, str]] = field(default_factory=list)

    def emit(self, about: ObjectRef, kind: str, reason: str, message: str) -> None:
        self.events.append((kind, reason, message))


def recorder() -> Recorder:
    return Recorder(
        PlatformStatus(),
        about=ObjectRef("gunj.dev/v1", "ObservabilityPlatform", "monitoring", "obs"),
        events=cast(Any, Emitted()),
        redactor=Redactor(),
        persist=lambda _status: None,
        clock=lambda: SINCE,
        generation=4,
    )


def test_a_forced_rollback_keeps_what_the_fleet_holds_for_the_rest_of_the_pass() -> None:
    fleet = FleetHolding(quarantines.FleetHeld((entry("29.28.0"),)))
    want = Wanted(
        component="prometheus",
        release="obs-prometheus",
        first=observed(chart_version="29.27.0"),
        desired=desired(version="29.28.0"),
        held=Held(fleet=fleet),
        backend=cast(Any, None),
    )
    forced = Forced(
        Decision(Action.ROLLBACK, ComponentState.PROGRESSING, "alert"),
        hold="PrometheusNotReady fired within the bake window",
    )
    after = _hold(
        recorder(),
        want,
        forced,
        observed(chart_version="29.27.0", content_digest="new"),
        observed(chart_version="29.26.0", content_digest="old"),
        run=ComponentRun("prometheus", ComponentState.PROGRESSING, ""),
    )
    # What the rollback returned from is held on this platform ...
    assert after.held.versions == frozenset({"29.27.0"})
    # ... and what every cluster holds is still held in the steps that follow.
    why = why_held(
        desired(version="29.28.0"),
        observed(chart_version="29.26.0", content_digest="old"),
        "obs",
        after.held,
    )
    assert why is not None and "quarantined fleet-wide" in why

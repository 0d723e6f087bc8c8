"""Which automatic upgrades a check proposes, against chart repository indexes written here and
served over HTTP: a component in native mode is never compared with chart versions nor given a
chart upgrade; a proposal the cluster cannot run (the chart's kubeVersion, the Kubernetes
versions its notes require, the compatibility rules with the cluster and with the platform's
other components) is refused with the reason in the report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.engine.resource import StoredPlatform
from shared.fleet import quarantines
from shared.handlers.upgrades import _stale
from shared.helm import selection
from shared.helm.repositories import RepositorySettings, known_repositories
from shared.helm.selection import broken_rules, parse_rules
from shared.helm.upgrade_notes import parse_notes
from shared.upgrades.catalog import RunCatalog
from shared.upgrades.check import ComponentCheck, Kubernetes, check_component, refuse_incompatible
from shared.upgrades.run import FleetQuarantined, PlatformReport, check_platform
from shared.values.build import PlatformContext
from shared.values.plan import DEFAULT_MODE_VARIABLE, ComponentPlan, plan_component
from shared.values.spec.status import ComponentStatus, PlatformStatus
from shared.values.validation import validate
from tests.servers import chart_repository
from tests.unit.test_fleet import stored as platform_as_stored

CLUSTER = Kubernetes("v1.34.4")
GRAFANA = {"adminCredentials": {"existingSecret": "admin"}}
# (version, appVersion, kubeVersion) as the repositories list them.
PROMETHEUS = [
    ("29.26.0", "v3.13.0", ""),
    ("29.27.0", "v3.14.0", ""),
    ("29.28.0-rc.1", "v3.16.0-rc.0", ""),
    ("29.28.0", "v3.15.0", ""),
    ("30.0.0", "v3.15.1", ""),
]
TEMPO = [("2.2.3", "2.10.7", ""), ("2.2.4", "2.10.8", "")]
LONG_AGO = "2020-01-02T03:04:05.123456789Z"
"""When the repositories published a version, unless a test says otherwise: old enough for any
minimumReleaseAge."""


def index(
    charts: dict[str, list[tuple[str, str, str]]], created: dict[str, str | None] | None = None
) -> str:
    """``created``: version -> the index's created time of that version (None: none given)."""
    entries: dict[str, list[dict[str, Any]]] = {}
    times = created or {}
    for chart, versions in charts.items():
        entries[chart] = [
            {
                "name": chart,
                "version": version,
                "appVersion": app,
                "urls": [f"{chart}-{version}.tgz"],
                **({"kubeVersion": kube} if kube else {}),
                **({"created": at} if (at := times.get(version, LONG_AGO)) else {}),
            }
            for version, app, kube in versions
        ]
    return yaml.safe_dump({"apiVersion": "v1", "entries": entries})


@dataclass
class Repositories:
    """The upstream repositories' mirrors, served over HTTP from a folder each."""

    root: Path
    settings: RepositorySettings
    cache: Path

    def serve(
        self,
        repository: str,
        charts: dict[str, list[tuple[str, str, str]]],
        created: dict[str, str | None] | None = None,
    ) -> None:
        (self.root / repository / "index.yaml").write_text(index(charts, created))

    def catalog(self) -> RunCatalog:
        """A check run's catalog: each repository fetched once."""
        return RunCatalog.for_run(self.settings, self.cache)


@pytest.fixture
def repositories(tmp_path: Path) -> Iterator[Repositories]:
    root = tmp_path / "served"
    known = known_repositories()
    names = ("prometheus-community", "grafana-community")
    for name in names:
        (root / name).mkdir(parents=True)
    with chart_repository(root) as served:
        mirrors = {known[name].url: f"{served.url}/{name}" for name in names}
        yield Repositories(root, RepositorySettings(mirrors=mirrors), tmp_path / "cache")


def plans(**components: dict[str, Any]) -> dict[str, ComponentPlan]:
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": "obs", "namespace": "team"},
        "spec": components,
    }
    result = validate(document)
    assert result.platform is not None, result.problems
    context = PlatformContext.of(result.platform)
    return {c: plan_component(result.platform, c, context) for c in components}


def running(version: str, app: str = "", mode: str = "helm") -> ComponentStatus:
    return ComponentStatus.model_validate(
        {"mode": mode, "state": "InSync", "chartVersion": version, "appVersion": app or None}
    )


def test_a_native_component_is_not_compared_with_chart_versions_nor_upgraded(
    repositories: Repositories,
) -> None:
    repositories.serve("prometheus-community", {"prometheus": PROMETHEUS})
    plan = plans(prometheus={"mode": "native", "upgradePolicy": {"auto": "minor"}})["prometheus"]
    # What native mode records: the renderer's version, with the app's as build metadata.
    record = running("1.0.0+3.14.0", "v3.14.0", mode="native")

    check = check_component(plan, record, repositories.catalog(), [], CLUSTER)

    assert (check.newest_patch, check.newest_minor, check.newest_major) == (None, None, None)
    assert check.path == [] and check.proposal is None and check.error is None
    assert (check.mode, check.current, check.renderer) == ("native", None, "1.0.0+3.14.0")
    # The newest stable release carries v3.15.1; a release candidate's app does not count.
    assert (check.current_app, check.newest_app) == ("v3.14.0", "v3.15.1")
    assert "upgrades follow gunj's renderer" in check.why_not
    assert "30.0.0, carries app v3.15.1" in check.notices[0]
    report = PlatformReport("local", "team", "obs", datetime.now(UTC), components=[check])
    assert report.available() == "none"


def test_a_native_component_on_the_newest_app_is_told_so_without_an_offer(
    repositories: Repositories,
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO})
    plan = plans(tempo={"mode": "native"})["tempo"]

    check = check_component(
        plan,
        running("1.0.0+2.10.8", "2.10.8", mode="native"),
        repositories.catalog(),
        [],
        CLUSTER,
    )

    assert check.newest_app is None and check.why_not == ""
    assert check.notices == [
        "native mode: no chart runs, so no chart version is compared or proposed; upgrades "
        "follow gunj's renderer (renderer 1.0.0+2.10.8, app 2.10.8)"
    ]


def test_a_patch_is_proposed_when_the_cluster_can_run_it(repositories: Repositories) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]

    check = check_component(plan, running("2.2.3"), repositories.catalog(), [], CLUSTER)

    assert (check.proposal, check.why_not) == ("2.2.4", "")


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat().replace("+00:00", "Z")


def test_a_version_younger_than_the_minimum_release_age_is_not_proposed_and_the_report_says_when(
    repositories: Repositories,
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO}, {"2.2.4": ago(days=2, hours=1)})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]

    check = check_component(plan, running("2.2.3"), repositories.catalog(), [], CLUSTER)

    assert check.proposal is None
    assert check.newest_patch is not None and check.newest_patch.version == "2.2.4"
    assert check.why_not == (
        "2.2.4 published 2 days ago; proposed after 3d (upgradePolicy.minimumReleaseAge)"
    )


def test_the_newest_version_old_enough_is_proposed_while_a_newer_one_waits(
    repositories: Repositories,
) -> None:
    versions = [*TEMPO, ("2.2.5", "2.10.9", "")]
    repositories.serve("grafana-community", {"tempo": versions}, {"2.2.5": ago(hours=5)})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch", "minimumReleaseAge": "1d"}})["tempo"]

    check = check_component(plan, running("2.2.3"), repositories.catalog(), [], CLUSTER)

    assert check.proposal == "2.2.4"
    assert check.not_yet == (
        "2.2.5 published 5 hours ago; proposed after 1d (upgradePolicy.minimumReleaseAge)"
    )


def test_a_minimum_release_age_of_0_proposes_a_version_published_just_now(
    repositories: Repositories,
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO}, {"2.2.4": ago(seconds=1)})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}})["tempo"]

    check = check_component(plan, running("2.2.3"), repositories.catalog(), [], CLUSTER)

    assert (check.proposal, check.why_not) == ("2.2.4", "")


def test_a_version_whose_repository_gives_no_created_time_is_proposed_only_with_age_0(
    repositories: Repositories,
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO}, {"2.2.4": None})
    waiting = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]
    at_once = plans(tempo={"upgradePolicy": {"auto": "patch", "minimumReleaseAge": "0s"}})["tempo"]

    check = check_component(waiting, running("2.2.3"), repositories.catalog(), [], CLUSTER)
    unaged = check_component(at_once, running("2.2.3"), repositories.catalog(), [], CLUSTER)

    assert check.proposal is None
    assert check.why_not == (
        "2.2.4: its repository gives no publication time (created), so its age cannot be "
        "told; proposed only with upgradePolicy.minimumReleaseAge: 0"
    )
    assert unaged.proposal == "2.2.4"


def test_a_minimum_release_age_that_is_no_duration_is_refused_naming_the_field() -> None:
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": "obs", "namespace": "team"},
        "spec": {"tempo": {"upgradePolicy": {"minimumReleaseAge": "three days"}}},
    }

    result = validate(document)

    assert result.platform is None
    assert any(
        "tempo.upgradePolicy.minimumReleaseAge" in str(problem) for problem in result.problems
    ), result.problems


def test_a_patch_whose_chart_needs_a_newer_cluster_is_not_proposed(
    repositories: Repositories,
) -> None:
    repositories.serve(
        "grafana-community",
        {"tempo": [("2.2.3", "2.10.7", ""), ("2.2.4", "2.10.8", ">=1.40.0-0")]},
    )
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]

    check = check_component(plan, running("2.2.3"), repositories.catalog(), [], CLUSTER)

    assert check.proposal is None
    assert check.newest_patch is not None and check.newest_patch.version == "2.2.4"
    assert check.why_not == (
        "2.2.4 cannot be proposed: tempo 2.2.4 needs Kubernetes >=1.40.0-0; "
        "the cluster runs v1.34.4"
    )


def test_a_kube_version_that_does_not_parse_refuses_the_proposal(
    repositories: Repositories,
) -> None:
    repositories.serve(
        "grafana-community",
        {"tempo": [("2.2.3", "2.10.7", ""), ("2.2.4", "2.10.8", ">=one.two")]},
    )
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]

    check = check_component(plan, running("2.2.3"), repositories.catalog(), [], CLUSTER)

    assert check.proposal is None
    assert "declares kubeVersion '>=one.two', which is not a version constraint" in check.why_not


def note(introduced_in: str, kubernetes: str) -> str:
    return (
        "notes:\n"
        "  - chart: tempo\n"
        "    repository: grafana-community\n"
        f"    introduced_in: {introduced_in}\n"
        "    breaking: false\n"
        "    summary: a change\n"
        "    action: nothing\n"
        "    source: https://example.org/tempo/README.md\n"
        f"    kubernetes: '{kubernetes}'\n"
    )


@pytest.mark.parametrize(
    "introduced_in",
    [
        "2.2.4",  # met on the way
        "2.0.0",  # met before: the requirement holds from its version on
    ],
)
def test_a_note_that_needs_a_newer_cluster_refuses_the_proposal(
    repositories: Repositories, introduced_in: str
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]
    notes = parse_notes(note(introduced_in, ">=1.35.0-0"), ["grafana-community"])

    check = check_component(
        plan,
        running("2.2.3"),
        repositories.catalog(),
        [],
        CLUSTER,
        notes=notes,
    )

    assert check.proposal is None
    assert check.why_not == (
        f"2.2.4 cannot be proposed: from {introduced_in} on the chart needs Kubernetes "
        ">=1.35.0-0; the cluster runs v1.34.4 (https://example.org/tempo/README.md)"
    )


def test_a_note_a_later_version_brings_does_not_hold_the_proposal_back(
    repositories: Repositories,
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]
    notes = parse_notes(note("2.3.0", ">=1.35.0-0"), ["grafana-community"])

    check = check_component(
        plan,
        running("2.2.3"),
        repositories.catalog(),
        [],
        CLUSTER,
        notes=notes,
    )

    assert check.proposal == "2.2.4"


def test_the_compatibility_rules_with_the_cluster_refuse_the_proposal(
    repositories: Repositories,
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]

    check = check_component(
        plan,
        running("2.2.3"),
        repositories.catalog(),
        [],
        Kubernetes("v1.24.17"),
        notes=(),  # the rule alone
    )

    assert check.proposal is None
    assert check.why_not.startswith(
        "2.2.4 cannot be proposed: tempo 2.2.4 needs Kubernetes >=1.25.0-0: the chart dropped "
        "deprecated Kubernetes APIs in 2.0.0 (https://github.com/grafana-community/"
    )


def test_the_shipped_notes_and_rules_refuse_a_patch_on_an_old_cluster(
    repositories: Repositories,
) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]

    check = check_component(
        plan,
        running("2.2.3"),
        repositories.catalog(),
        [],
        Kubernetes("v1.24.17"),
    )

    assert check.proposal is None
    assert "tempo 2.2.4 needs Kubernetes >=1.25.0-0" in check.why_not
    assert "from 2.0.0 on the chart needs Kubernetes >=1.25.0-0" in check.why_not


def test_an_unknown_cluster_version_refuses_the_proposal(repositories: Repositories) -> None:
    repositories.serve("grafana-community", {"tempo": TEMPO})
    plan = plans(tempo={"upgradePolicy": {"auto": "patch"}})["tempo"]
    unknown = Kubernetes(None, "reading the Kubernetes version: the API server answered 503")

    check = check_component(plan, running("2.2.3"), repositories.catalog(), [], unknown)

    assert check.proposal is None
    assert check.why_not == (
        "2.2.4 cannot be proposed: the cluster's Kubernetes version is unknown (reading the "
        "Kubernetes version: the API server answered 503)"
    )


RULES = """
rules:
  - component: grafana
    charts: ">=12.11.1"
    requires:
      components:
        loki: ">=18.11.0"
    reason: the dashboards need it
    source: https://example.org/grafana/README.md
"""


@pytest.fixture
def grafana_needs_new_loki(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shipped rules relate components to the cluster only; this one relates two components.
    rules = parse_rules(RULES)
    monkeypatch.setattr(selection, "compatibility_rules", lambda: rules)


def platform_checks(
    repositories: Repositories, loki: list[tuple[str, str, str]], running_loki: str
) -> list[ComponentCheck]:
    """Grafana on 12.11.0 and loki on ``running_loki``, both allowed minor upgrades."""
    repositories.serve(
        "grafana-community",
        {"grafana": [("12.11.0", "13.1.2", ""), ("12.11.1", "13.2.0", "")], "loki": loki},
    )
    auto = {"upgradePolicy": {"auto": "minor"}}
    planned = plans(grafana={**GRAFANA, **auto}, loki=auto)
    catalog = repositories.catalog()
    checks = [
        check_component(planned["grafana"], running("12.11.0"), catalog, [], CLUSTER),
        check_component(planned["loki"], running(running_loki), catalog, [], CLUSTER),
    ]
    refuse_incompatible(checks)
    return checks


@pytest.mark.usefixtures("grafana_needs_new_loki")
def test_a_proposal_that_needs_another_components_proposal_goes_with_it(
    repositories: Repositories,
) -> None:
    grafana, loki = platform_checks(
        repositories, [("18.10.0", "3.7.5", ""), ("18.11.0", "3.7.6", "")], "18.10.0"
    )

    assert (grafana.proposal, loki.proposal) == ("12.11.1", "18.11.0")


@pytest.mark.usefixtures("grafana_needs_new_loki")
def test_a_proposal_that_breaks_a_rule_with_what_another_component_runs_is_refused(
    repositories: Repositories,
) -> None:
    grafana, loki = platform_checks(repositories, [("18.9.0", "3.7.4", "")], "18.9.0")

    assert grafana.proposal is None and loki.proposal is None
    assert grafana.why_not == (
        "12.11.1 cannot be proposed: grafana 12.11.1 needs loki chart >=18.11.0 (planned: "
        "18.9.0): the dashboards need it (https://example.org/grafana/README.md)"
    )


@pytest.mark.usefixtures("grafana_needs_new_loki")
def test_a_refused_proposal_takes_the_proposals_that_needed_it_along(
    repositories: Repositories,
) -> None:
    # Loki's 18.11.0 needs a newer cluster, so grafana's 12.11.1 would run beside 18.10.0.
    grafana, loki = platform_checks(
        repositories,
        [("18.10.0", "3.7.5", ""), ("18.11.0", "3.7.6", ">=1.40.0-0")],
        "18.10.0",
    )

    assert loki.proposal is None and "needs Kubernetes >=1.40.0-0" in loki.why_not
    assert grafana.proposal is None and "(planned: 18.10.0)" in grafana.why_not


def test_broken_rules_name_the_components_they_stand_against() -> None:
    broken = broken_rules(
        {"tempo": "2.2.4", "prometheus": "29.27.0"},
        "v1.24.17",
        {"prometheus": ">=1.28.0-0"},
    )

    assert [b.components for b in broken] == [("prometheus",), ("tempo",)]


def test_a_helm_component_is_proposed_upgrades_though_the_process_default_is_native(
    repositories: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process default picks a form for new components only; the one installed with Helm
    # stays in Helm mode, and so do its automatic upgrades.
    monkeypatch.setenv(DEFAULT_MODE_VARIABLE, "native")
    repositories.serve("grafana-community", {"tempo": TEMPO})
    stored = StoredPlatform(
        name="obs",
        namespace="team",
        uid="",
        generation=1,
        published_generation=None,
        spec={"tempo": {"upgradePolicy": {"auto": "patch"}}},
        status=PlatformStatus(components={"tempo": running("2.2.3")}),
        deleting=False,
    )

    report = check_platform("local", stored, repositories.catalog(), datetime.now(UTC), CLUSTER)

    (tempo,) = report.components
    assert (tempo.proposal, tempo.why_not) == ("2.2.4", "")


def proposing(version: str) -> tuple[PlatformReport, StoredPlatform]:
    """A report proposing tempo ``version``, and its platform as stored (unchanged since)."""
    stored = platform_as_stored()
    report = PlatformReport(
        cluster="local",
        namespace="monitoring",
        name="obs",
        checked_at=datetime.now(UTC),
        components=[ComponentCheck("tempo", "grafana-community", "tempo", "2.2.3")],
        proposal={"tempo": version},
        stored=stored,
    )
    return report, stored


def fleet_holding(version: str, chart: str = "tempo") -> FleetQuarantined:
    return FleetQuarantined(
        (
            quarantines.FleetQuarantine(
                component="tempo",
                chart=chart,
                chart_version=version,
                reason="TempoNotReady fired within the bake window",
                cluster="local-2",
                platform="monitoring/obs",
                incident="alertmanager/fp-1",
            ),
        )
    )


def test_a_version_quarantined_fleet_wide_since_the_check_is_not_proposed_under_the_lease() -> None:
    report, stored = proposing("2.2.4")

    assert _stale(report, stored, None) == ""
    assert _stale(report, stored, fleet_holding("2.2.5")) == ""
    assert _stale(report, stored, fleet_holding("2.2.4", chart="other")) == ""
    assert _stale(report, stored, fleet_holding("2.2.4")) == (
        "quarantined fleet-wide since the check: tempo 2.2.4"
    )
    unreadable = FleetQuarantined(unreadable="the fleet's quarantines could not be read: down")
    assert _stale(report, stored, unreadable) == unreadable.unreadable

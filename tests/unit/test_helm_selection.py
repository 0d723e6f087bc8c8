"""Choosing versions, upgrade paths, compatibility, mirrors and allow-lists, digests, and when a
revision counts as tested: the decisions the Helm layer makes without running anything."""

from __future__ import annotations

import pytest

from shared.helm.digest import content_digest
from shared.helm.errors import ChartNotFound, RepositoryNotAllowed
from shared.helm.index import ChartVersion, parse_index
from shared.helm.releases import passed_tests_since_deployed
from shared.helm.repositories import RepositorySettings, moved
from shared.helm.selection import (
    InvalidRules,
    compatibility_rules,
    incompatibilities,
    notices,
    parse_rules,
    select_version,
    upgrade_path,
)


def entries(*pairs: tuple[str, str]) -> list[ChartVersion]:
    return [ChartVersion(name="prometheus", version=v, app_version=a) for v, a in pairs]


AVAILABLE = entries(
    ("27.5.0", "v3.2.1"),
    ("28.0.0", "v3.5.0"),
    ("28.9.1", "v3.7.3"),
    ("29.26.0", "v3.13.0"),
    ("29.27.0", "v3.14.0"),
    ("29.27.1", "v3.14.0"),
    ("30.0.0-rc.1", "v3.16.0"),
)


def test_newest_chart_carrying_an_app_version_wins() -> None:
    assert select_version(AVAILABLE, app_version="3.14.0").version == "29.27.1"
    assert (
        select_version(AVAILABLE, app_version="v3.14.0", exclude=["29.27.1"]).version == "29.27.0"
    )


def test_prereleases_only_when_asked_or_named() -> None:
    assert select_version(AVAILABLE).version == "29.27.1"
    assert select_version(AVAILABLE, include_prereleases=True).version == "30.0.0-rc.1"
    assert select_version(AVAILABLE, constraint=">=30.0.0-0").version == "30.0.0-rc.1"


def test_nothing_matching_says_what_exists() -> None:
    with pytest.raises(ChartNotFound) as raised:
        select_version(AVAILABLE, constraint="~31.0", exclude=["29.27.1"])

    message = str(raised.value)
    assert "within ~31.0" in message
    assert "newest: 30.0.0-rc.1, 29.27.1, 29.27.0" in message
    assert "quarantined: 29.27.1" in message


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        ("27.5.0", None, ["28.9.1", "29.27.1"]),
        ("27.5.0", "29.26.0", ["28.9.1", "29.26.0"]),
        ("28.0.0", "28.9.1", ["28.9.1"]),
        ("29.27.1", None, []),
        ("26.0.0", "29.27.0", ["27.5.0", "28.9.1", "29.27.0"]),
    ],
)
def test_upgrade_paths_take_one_major_at_a_time(
    current: str, target: str | None, path: list[str]
) -> None:
    assert upgrade_path(current, [e.version for e in AVAILABLE], target) == path


def test_upgrade_path_goes_around_a_major_the_chart_never_released() -> None:
    assert upgrade_path("1.0.0", ["1.0.0", "3.0.0", "3.1.0"]) == ["3.1.0"]


def test_compatibility_rules_and_chart_kube_versions() -> None:
    problems = incompatibilities(
        {"tempo": "2.2.4", "prometheus": "27.5.0", "grafana": "12.11.1", "loki": "18.11.0"},
        kubernetes="v1.24.17",
        kube_versions={"prometheus": ">=1.28.0-0"},
    )

    assert problems[0].startswith("prometheus 27.5.0 needs Kubernetes >=1.28.0-0")
    assert sorted(p.split(" needs ")[0] for p in problems[1:]) == [
        "grafana 12.11.1",
        "loki 18.11.0",
        "tempo 2.2.4",
    ]
    assert all("needs Kubernetes >=1.25.0-0" in p for p in problems[1:])
    assert "https://github.com/grafana-community/helm-charts/" in problems[1]
    assert incompatibilities({"tempo": "2.2.4", "prometheus": "29.27.0"}, "v1.34.4") == []


def test_kubernetes_requirements_start_where_the_charts_say() -> None:
    # The deprecated grafana 10.x and tempo 1.x still ran on 1.24; their successors do not.
    assert incompatibilities({"grafana": "10.5.15", "tempo": "1.24.4"}, "v1.24.17") == []
    assert incompatibilities({"grafana": "11.0.0"}, "v1.24.17") != []
    # A provider's build of 1.25 is 1.25.
    assert incompatibilities({"grafana": "12.11.1", "loki": "18.11.0"}, "v1.25.3-gke.100") == []
    assert incompatibilities({"prometheus": "29.27.0"}, "v1.18.20") != []


def test_every_compatibility_rule_cites_its_source_and_one_without_is_refused() -> None:
    assert compatibility_rules()
    assert all(r.source.startswith("https://") and r.section for r in compatibility_rules())
    unsourced = """
rules:
  - component: grafana
    charts: ">=12.0.0"
    requires: {kubernetes: ">=1.30.0-0"}
    reason: no one says so
"""
    with pytest.raises(InvalidRules, match=r"rule 0 \(grafana\): needs a `source`"):
        parse_rules(unsourced)


def test_moved_repository_names_the_new_home() -> None:
    move = moved("https://grafana.github.io/helm-charts/", "loki")

    assert move is not None
    assert (move.to_name, move.since.isoformat()) == ("grafana-community", "2026-03-16")
    assert moved("https://grafana.github.io/helm-charts", "mimir-distributed") is None
    assert moved("https://grafana-community.github.io/helm-charts", "loki") is None


def test_chart_deprecated_when_its_newest_version_is() -> None:
    versions = [ChartVersion("old", "1.0.0"), ChartVersion("old", "1.1.0", deprecated=True)]

    assert [n.kind for n in notices("https://charts.example", versions, "1.0.0")] == ["deprecated"]


def test_mirrors_use_the_longest_matching_prefix() -> None:
    settings = RepositorySettings.from_environment(
        {
            "GUNJ_REPOSITORY_MIRRORS": "https://charts.example=https://mirror.internal/all,"
            "https://charts.example/special=https://mirror.internal/special,"
            "oci://ghcr.io/org=oci://registry.internal/org"
        }
    )

    assert settings.locate("https://charts.example/stable") == "https://mirror.internal/all/stable"
    assert settings.locate("https://charts.example/special/") == "https://mirror.internal/special"
    assert settings.locate("https://charts.examples") == "https://charts.examples"
    assert settings.locate("oci://ghcr.io/org/charts") == "oci://registry.internal/org/charts"


def test_allow_list_matches_whole_path_segments() -> None:
    settings = RepositorySettings.from_environment(
        {"GUNJ_ALLOWED_REPOSITORIES": "https://charts.example/approved, oci://ghcr.io/org"}
    )

    settings.check_allowed("https://charts.example/approved")
    settings.check_allowed("oci://ghcr.io/org/charts")
    for refused in (
        "https://charts.example/approved-not",
        "https://charts.example",
        "oci://ghcr.io/other",
    ):
        with pytest.raises(RepositoryNotAllowed):
            settings.check_allowed(refused)
    # Without a list, the default one: the upstream repositories only.
    RepositorySettings.from_environment({}).check_allowed(
        "https://prometheus-community.github.io/helm-charts"
    )
    with pytest.raises(RepositoryNotAllowed, match="GUNJ_ALLOWED_REPOSITORIES"):
        RepositorySettings.from_environment({}).check_allowed("https://anything.example")


def test_digest_covers_chart_version_and_values_as_helm_stores_them() -> None:
    base = content_digest("tempo", "2.2.4", {"a": {"b": 1, "c": 2.0}, "l": (1, "x")})

    # Key order, YAML's 2.0 for 2 and tuples for lists are how values are written, not what
    # Helm keeps.
    assert base == content_digest("tempo", "2.2.4", {"l": [1, "x"], "a": {"c": 2, "b": 1}})
    assert len(base) == 48
    assert base != content_digest("tempo", "2.2.5", {"a": {"b": 1, "c": 2}, "l": [1, "x"]})
    assert base != content_digest("loki", "2.2.4", {"a": {"b": 1, "c": 2}, "l": [1, "x"]})
    assert base != content_digest("tempo", "2.2.4", {"a": {"b": 1, "c": 2.5}, "l": [1, "x"]})
    assert base != content_digest("tempo", "2.2.4", {"a": {"b": 1, "c": None}, "l": [1, "x"]})


def _release(last_deployed: str, *runs: tuple[str, str]) -> dict[str, object]:
    return {
        "info": {"last_deployed": last_deployed},
        "hooks": [
            {
                "name": f"t{i}",
                "events": ["test"],
                "last_run": {"started_at": started, "phase": phase},
            }
            for i, (started, phase) in enumerate(runs)
        ],
    }


def test_a_revision_is_tested_by_runs_after_its_deployment_only() -> None:
    deployed = "2026-11-24T06:00:00Z"

    assert passed_tests_since_deployed(_release(deployed, ("2026-11-24T06:01:00Z", "Succeeded")))
    assert not passed_tests_since_deployed(
        _release(deployed, ("2026-11-24T05:59:00Z", "Succeeded"))
    )
    assert not passed_tests_since_deployed(
        _release(
            deployed, ("2026-11-24T06:01:00Z", "Succeeded"), ("2026-11-24T06:01:00Z", "Failed")
        )
    )
    assert not passed_tests_since_deployed(_release(deployed, ("", "")))
    assert passed_tests_since_deployed({"info": {"last_deployed": deployed}, "hooks": []})


def test_index_parsing_keeps_what_selection_needs() -> None:
    index = parse_index(
        "https://charts.example",
        b"""
apiVersion: v1
entries:
  tempo:
    - version: 2.2.4
      appVersion: 2.10.8
      urls: [tempo-2.2.4.tgz]
      digest: abc
      kubeVersion: ">=1.25.0-0"
    - version: not-a-version
      urls: [x.tgz]
""",
    )

    (entry,) = index.versions("tempo")
    assert (entry.version, entry.app_version, entry.kube_version) == (
        "2.2.4",
        "2.10.8",
        ">=1.25.0-0",
    )
    assert (
        entry.download_url("https://charts.example/sub")
        == "https://charts.example/sub/tempo-2.2.4.tgz"
    )
    with pytest.raises(ChartNotFound):
        index.versions("loki")

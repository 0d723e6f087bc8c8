"""Scheduled upgrade checks end to end: a tick on upgrade-checks reaches the real upgrades
function, which reads every platform of every registered cluster, fetches each repository
once, reports what each component could be upgraded to and how, and proposes the automatic
upgrades the specs allow through the reconcile function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.engine.resource import apply_platform, ensure_crd, read_platform, write_status
from shared.kube import ClusterAccess
from shared.localstack import tools
from shared.localstack.cluster import LocalCluster
from shared.localstack.stack import Stack
from shared.values.spec.status import PlatformStatus
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.engine_support import Engine, platform
from tests.servers import chart_repository, failing_repository

UPSTREAM = {
    "prometheus": "https://prometheus-community.github.io/helm-charts",
    "grafana": "https://grafana-community.github.io/helm-charts",
    "old-grafana": "https://grafana.github.io/helm-charts",
}


def put_platform(
    access: ClusterAccess,
    namespace: str,
    name: str,
    spec: dict[str, Any],
    running: dict[str, str],
    quarantined: dict[str, str] | None = None,
) -> None:
    """A platform as reconcile leaves it: its object and a status that says what runs."""
    ensure_crd(access)
    access.ensure_namespace(namespace)
    apply_platform(access, platform(namespace, name, **spec), generation=None, source="test")
    status = PlatformStatus.model_validate(
        {
            "phase": "Ready",
            "components": {
                c: {"mode": "helm", "state": "InSync", "chart": c, "chartVersion": v, "revision": 1}
                for c, v in running.items()
            },
            "quarantinedVersions": [
                {
                    "component": c,
                    "chartVersion": v,
                    "reason": "test",
                    "since": "2026-11-25T00:00:00Z",
                }
                for c, v in (quarantined or {}).items()
            ],
        }
    )
    write_status(access, namespace, name, status)


@pytest.fixture
def upgrades(local_stack: Stack, tmp_path: Path) -> Iterator[ServedFunction]:
    clusters = registry_file(local_stack, tmp_path)
    with served_function(
        "upgrades", local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
    ) as served:
        yield served


def reports_by_platform(served: ServedFunction) -> dict[str, dict[str, Any]]:
    return {r["platform"]: r for r in served.reports}


def component(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["components"] if c["component"] == name)


def test_a_tick_reports_newer_versions_paths_notes_and_moved_charts(
    upgrades: ServedFunction, namespace: str, cluster: ClusterAccess, local_stack: Stack
) -> None:
    small = {"storage": {"enabled": False}}
    put_platform(
        cluster,
        namespace,
        "http",
        {"prometheus": {**small, "chartVersion": "27.5.0"}},
        {"prometheus": "27.5.0"},
    )
    put_platform(
        cluster,
        namespace,
        "oci",
        {
            "prometheus": {
                **small,
                "chartVersion": "27.5.0",
                "chart": {"repository": "oci://ghcr.io/prometheus-community/charts"},
            }
        },
        {"prometheus": "27.5.0"},
    )
    put_platform(
        cluster,
        namespace,
        "moved",
        {
            "grafana": {
                "chartVersion": "10.5.14",
                "chart": {"repository": UPSTREAM["old-grafana"]},
                "adminCredentials": {"existingSecret": "admin"},
            }
        },
        {"grafana": "10.5.14"},
    )

    upgrades.publish(json.dumps({"clusters": ["local"]}))
    fleet = upgrades.fleet_report()
    mine = {p: r for p, r in reports_by_platform(upgrades).items() if p.startswith(namespace)}

    assert fleet["cluster_errors"] == {}
    http = component(mine[f"{namespace}/http"], "prometheus")
    assert (http["newest_patch"], http["newest_minor"]) == (None, None)
    assert (http["newest_major"]["version"], http["newest_major"]["kind"]) == ("29.27.0", "major")
    assert [(s["version"], s["kind"]) for s in http["path"]] == [
        ("28.9.1", "major"),
        ("29.27.0", "major"),
    ]
    assert all(s["breaking"] for s in http["path"])
    assert any("scrapeConfigs" in n["summary"] for n in http["path"][0]["notes"])
    assert all(n["source"].startswith("https://") for s in http["path"] for n in s["notes"])
    # The same chart from the registry gives the same answer.
    oci = component(mine[f"{namespace}/oci"], "prometheus")
    assert [s["version"] for s in oci["path"]] == [s["version"] for s in http["path"]]
    moved = component(mine[f"{namespace}/moved"], "grafana")
    assert any("deprecated" in n for n in moved["notices"])
    assert any(
        "moved from https://grafana.github.io/helm-charts to "
        "https://grafana-community.github.io/helm-charts" in n
        for n in moved["notices"]
    )
    stored = read_platform(cluster, namespace, "http")
    assert stored is not None and stored.status.upgrades is not None
    assert stored.status.upgrades.available == "prometheus 29.27.0 (major)"
    shown = subprocess.run(
        [
            str(local_stack.kubectl),
            "--kubeconfig",
            str(local_stack.kubeconfig),
            "get",
            "op",
            "http",
            "-n",
            namespace,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "prometheus 29.27.0 (major)" in shown.stdout


def test_fifty_platforms_on_two_clusters_fetch_each_repository_once(
    local_stack: Stack, tmp_path: Path, cluster: ClusterAccess, namespace: str
) -> None:
    spare = LocalCluster(tools.provision(), tmp_path / "spare-stack", name="spare")
    try:
        spare.start()
        spare_access = ClusterAccess(spare.kubeconfig)
        four = {"prometheus": "29.26.0", "loki": "18.10.0", "tempo": "2.2.3", "grafana": "12.11.0"}
        spec = {
            "prometheus": {"storage": {"enabled": False}},
            "loki": {},
            "tempo": {},
            "grafana": {"adminCredentials": {"existingSecret": "admin"}},
        }
        for index in range(25):
            put_platform(cluster, namespace, f"p{index}", spec, four)
            put_platform(spare_access, "fleet", f"p{index}", spec, four)
        clusters = registry_file(
            local_stack,
            tmp_path,
            spare={"kubeconfig": str(spare.kubeconfig), "context": "kwok-spare"},
        )
        with chart_repository(local_stack.folder / "charts") as counted:
            mirrors = {
                UPSTREAM["prometheus"]: f"{counted.url}/prometheus-community",
                UPSTREAM["grafana"]: f"{counted.url}/grafana-community",
            }
            with served_function(
                "upgrades",
                local_stack,
                tmp_path,
                helm=local_stack.helm[3],
                clusters=clusters,
                env={"GUNJ_REPOSITORY_MIRRORS": json.dumps(mirrors)},
            ) as served:
                served.publish(json.dumps({"clusters": ["local", "spare"]}))
                fleet = served.fleet_report()

        ours = [r for r in served.reports if r["platform"].startswith((f"{namespace}/", "fleet/"))]
        assert len(ours) == 50
        assert counted.count("/prometheus-community/index.yaml") == 1
        assert counted.count("/grafana-community/index.yaml") == 1
        assert all(entry["fetches"] == 1 for entry in fleet["repositories"].values())
        assert all(component(r, "tempo")["newest_patch"]["version"] == "2.2.4" for r in ours)
    finally:
        spare.delete()


def test_a_repository_that_fails_is_reported_and_the_others_are_checked(
    local_stack: Stack, tmp_path: Path, cluster: ClusterAccess, namespace: str
) -> None:
    put_platform(
        cluster,
        namespace,
        "obs",
        {
            "prometheus": {"storage": {"enabled": False}},
            "grafana": {"adminCredentials": {"existingSecret": "admin"}},
        },
        {"prometheus": "29.26.0", "grafana": "12.11.0"},
    )
    clusters = registry_file(local_stack, tmp_path)
    with failing_repository(503) as broken:
        mirrors = {
            UPSTREAM["prometheus"]: local_stack.repository_url("prometheus-community"),
            UPSTREAM["grafana"]: broken,
        }
        with served_function(
            "upgrades",
            local_stack,
            tmp_path,
            helm=local_stack.helm[3],
            clusters=clusters,
            env={"GUNJ_REPOSITORY_MIRRORS": json.dumps(mirrors)},
        ) as served:
            served.publish(json.dumps({"clusters": ["local"], "platform": f"{namespace}/obs"}))
            served.fleet_report()

    report = reports_by_platform(served)[f"{namespace}/obs"]
    assert component(report, "prometheus")["newest_minor"]["version"] == "29.27.0"
    assert "503" in component(report, "grafana")["error"]


def test_an_automatic_patch_upgrade_goes_through_reconcile_and_skips_quarantine(
    engine: Engine, local_stack: Stack, tmp_path: Path, namespace: str, cluster: ClusterAccess
) -> None:
    auto = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch"}}
    assert engine.apply(platform(namespace, tempo=auto)).result == "ready"
    put_platform(
        cluster,
        namespace,
        "held",
        {"tempo": auto},
        {"tempo": "2.2.3"},
        quarantined={"tempo": "2.2.4"},
    )
    clusters = registry_file(local_stack, tmp_path)
    with (
        served_function(
            "reconcile", local_stack, tmp_path, helm=engine.helm.binary.path, clusters=clusters
        ) as reconcile,
        served_function(
            "upgrades",
            local_stack,
            tmp_path,
            helm=engine.helm.binary.path,
            clusters=clusters,
            topics=reconcile.topics,
        ) as upgrades,
    ):
        upgrades.publish(json.dumps({"clusters": ["local"]}))
        upgrades.fleet_report()
        proposed = reports_by_platform(upgrades)[f"{namespace}/obs"]
        assert proposed["proposal"] == {"tempo": "2.2.4"}
        outcome = next_outcome(reconcile, f"{namespace}/obs")

    assert outcome["result"] == "ready", outcome
    assert outcome["source"] == "upgrade-check" and outcome["generation"] == 1
    assert engine.release(namespace, "obs-tempo").chart_version == "2.2.4"
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.spec["tempo"]["chartVersion"] == "2.2.4"
    held = reports_by_platform(upgrades)[f"{namespace}/held"]
    assert held["proposal"] == {} and component(held, "tempo")["newest_patch"] is None


def next_outcome(
    served: ServedFunction, platform_name: str, timeout: float = 240
) -> dict[str, Any]:
    """The first final outcome the function reports for a platform."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served.drain()
        found = [
            e
            for e in served.received
            if e.get("platform") == platform_name and not e.get("transient")
        ]
        if found:
            return found[-1]
    raise AssertionError(f"no outcome for {platform_name}: {served.received}")


def test_gunj_upgrades_shows_the_table(
    local_stack: Stack, tmp_path: Path, cluster: ClusterAccess, namespace: str
) -> None:
    put_platform(
        cluster,
        namespace,
        "obs",
        {"prometheus": {"storage": {"enabled": False}, "chartVersion": "27.5.0"}},
        {"prometheus": "27.5.0"},
    )
    clusters = registry_file(local_stack, tmp_path)

    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli.main",
            "upgrades",
            "--cluster",
            "local",
            "--platform",
            f"{namespace}/obs",
        ],
        env={**os.environ, **local_stack.environment(), "GUNJ_CLUSTERS": str(clusters)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert shown.returncode == 0, shown.stderr
    assert f"{namespace}/obs on local: prometheus 29.27.0 (major)" in shown.stdout
    row = next(line for line in shown.stdout.splitlines() if line.strip().startswith("prometheus"))
    assert row.split()[:5] == ["prometheus", "27.5.0", "-", "-", "29.27.0"]
    assert "28.9.1! -> 29.27.0!" in row
    assert "scrapeConfigs" in shown.stdout

"""Scheduled upgrade checks end to end: a tick on upgrade-checks reaches the real upgrades
function, which reads every platform of every registered cluster, fetches each repository
once, reports what each component could be upgraded to and how, and proposes the automatic
upgrades the specs allow through the reconcile function."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudevents.http import CloudEvent
from google.cloud import pubsub_v1

from shared.engine.resource import apply_platform, ensure_crd, read_platform, write_status
from shared.handlers import outcomes
from shared.handlers import upgrades as upgrades_function
from shared.handlers.topics import SPECS, Topics
from shared.helm.repositories import RepositorySettings
from shared.kube import ClusterAccess
from shared.localstack import serving, tools
from shared.localstack.cluster import LocalCluster
from shared.localstack.stack import Stack
from shared.upgrades.catalog import RunCatalog
from shared.upgrades.run import PlatformReport, check_fleet
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
    auto = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}}
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
        env={
            **os.environ,
            **local_stack.environment(),
            "GUNJ_CLUSTERS": str(clusters),
            "GUNJ_FLEET_PROJECT": f"fleet-{namespace}",  # a fleet store of the test's own
        },
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


def test_a_native_component_is_reported_by_app_version_and_never_upgraded(
    upgrades: ServedFunction, engine_helm3: Engine, namespace: str, cluster: ClusterAccess
) -> None:
    # Native mode runs the app version the spec names (one behind the charts' newest here).
    tempo = {"mode": "native", "version": "2.10.7", "upgradePolicy": {"auto": "patch"}}
    assert engine_helm3.apply(platform(namespace, tempo=tempo)).result == "ready"

    upgrades.publish(json.dumps({"clusters": ["local"], "platform": f"{namespace}/obs"}))
    upgrades.fleet_report()

    report = reports_by_platform(upgrades)[f"{namespace}/obs"]
    native = component(report, "tempo")
    assert (native["mode"], native["current"], native["current_app"]) == ("native", None, "2.10.7")
    assert native["renderer"].endswith("+2.10.7")
    assert (native["newest_patch"], native["newest_minor"], native["newest_major"]) == (
        None,
        None,
        None,
    )
    assert native["path"] == [] and native["proposal"] is None and report["proposal"] == {}
    assert native["newest_app"] == "2.10.8"
    assert "upgrades follow gunj's renderer" in native["why_not"]
    assert "the chart's newest release, 2.2.4, carries app 2.10.8" in native["notices"][0]
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.status.upgrades is not None
    assert stored.status.upgrades.available == "none" and stored.status.upgrades.proposal is None
    assert "chartVersion" not in stored.spec["tempo"]


def test_a_patch_the_chart_says_the_cluster_cannot_run_is_not_proposed(
    local_stack: Stack, tmp_path: Path, cluster: ClusterAccess, namespace: str
) -> None:
    # The local repository's own index, with tempo 2.2.4 asking for a newer Kubernetes than the
    # local cluster's 1.34: only the index matters to a check.
    served = yaml.safe_load(
        (local_stack.folder / "charts" / "grafana-community" / "index.yaml").read_text()
    )
    for entry in served["entries"]["tempo"]:
        if entry["version"] == "2.2.4":
            entry["kubeVersion"] = ">=1.40.0-0"
    (tmp_path / "mirror" / "grafana-community").mkdir(parents=True)
    (tmp_path / "mirror" / "grafana-community" / "index.yaml").write_text(yaml.safe_dump(served))
    auto = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}}
    put_platform(cluster, namespace, "obs", {"tempo": auto}, {"tempo": "2.2.3"})
    clusters = registry_file(local_stack, tmp_path)
    with chart_repository(tmp_path / "mirror") as mirror:
        mirrors = {UPSTREAM["grafana"]: f"{mirror.url}/grafana-community"}
        with served_function(
            "upgrades",
            local_stack,
            tmp_path,
            helm=local_stack.helm[3],
            clusters=clusters,
            env={"GUNJ_REPOSITORY_MIRRORS": json.dumps(mirrors)},
        ) as served_upgrades:
            served_upgrades.publish(
                json.dumps({"clusters": ["local"], "platform": f"{namespace}/obs"})
            )
            served_upgrades.fleet_report()

    report = reports_by_platform(served_upgrades)[f"{namespace}/obs"]
    tempo = component(report, "tempo")
    assert report["kubernetes"].startswith("v1.34.")
    assert tempo["newest_patch"]["version"] == "2.2.4" and tempo["proposal"] is None
    assert report["proposal"] == {}
    assert tempo["why_not"] == (
        "2.2.4 cannot be proposed: tempo 2.2.4 needs Kubernetes >=1.40.0-0; "
        f"the cluster runs {report['kubernetes']}"
    )
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.spec["tempo"]["chartVersion"] == "2.2.3"
    assert stored.status.upgrades is not None and stored.status.upgrades.proposal is None


@pytest.fixture
def in_process(
    local_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], str]]:
    """The upgrades function's environment, for its steps run in this process (topics of
    their own), and a subscription that sees what it publishes on platform-specs."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", local_stack.pubsub_host)
    topics = Topics(local_stack.pubsub_project, f"t{uuid.uuid4().hex[:8]}")
    serving.ensure_topics(local_stack, topics)
    env = serving.function_environment(
        local_stack,
        {
            "GUNJ_TOPIC_PREFIX": topics.prefix,
            "GUNJ_CLUSTERS": str(registry_file(local_stack, tmp_path)),
            "GUNJ_CACHE_DIR": str(tmp_path / "cache"),
            "GUNJ_FLEET_PROJECT": f"fleet-{topics.prefix}",
        },
    )
    subscriber = pubsub_v1.SubscriberClient()
    specs = subscriber.subscription_path(topics.project, f"{topics.prefix}-specs-test")
    subscriber.create_subscription(name=specs, topic=topics.path(SPECS))
    yield env, specs


def check_now(env: dict[str, str], platform_name: str) -> PlatformReport:
    """One platform's check, as the function's tick makes it (before it records anything)."""
    catalog = RunCatalog.for_run(
        RepositorySettings.from_environment(env), Path(env["GUNJ_CACHE_DIR"])
    )
    reports, failed = check_fleet(
        ["local"],
        lambda name, namespace=None: upgrades_function.reconciler(name, env).access,
        catalog,
        platform=platform_name,
    )
    assert failed == {} and len(reports) == 1
    return reports[0]


def published_specs(subscription: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    subscriber = pubsub_v1.SubscriberClient()
    answer = subscriber.pull(subscription=subscription, max_messages=10, timeout=5)
    messages = list(answer.received_messages)
    if messages:
        subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in messages])
    return [(yaml.safe_load(m.message.data), dict(m.message.attributes)) for m in messages]


def test_a_spec_published_after_the_check_is_not_reverted_by_its_proposal(
    in_process: tuple[dict[str, str], str], cluster: ClusterAccess, namespace: str
) -> None:
    env, specs = in_process
    auto = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}}
    put_platform(cluster, namespace, "obs", {"tempo": auto}, {"tempo": "2.2.3"})
    report = check_now(env, f"{namespace}/obs")
    assert report.proposal == {"tempo": "2.2.4"}

    # While the check ran, someone published a spec of their own.
    theirs = {"tempo": {**auto, "retention": "48h"}}
    apply_platform(cluster, platform(namespace, **theirs), generation=5, source="commit 1234")
    assert upgrades_function.record_report(report, env) == 0

    assert report.proposal == {}
    assert report.proposal_note.startswith(
        "not proposed now: the spec changed since the check read it (now generation 5)"
    )
    assert published_specs(specs) == []
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.spec["tempo"]["retention"] == "48h"
    assert stored.status.upgrades is not None and stored.status.upgrades.proposal is None
    assert stored.status.upgrades.available == "tempo 2.2.4 (patch)"

    # The next check works from their spec, and its proposal keeps their change.
    again = check_now(env, f"{namespace}/obs")
    assert upgrades_function.record_report(again, env) == 1
    ((spec, attributes),) = published_specs(specs)
    assert spec["spec"] == {
        **stored.spec,
        "tempo": {**stored.spec["tempo"], "chartVersion": "2.2.4"},
    }
    assert (attributes["generation"], attributes["source"]) == ("6", "upgrade-check")
    assert again.proposal_note == "proposed as generation 6"
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.status.upgrades is not None
    proposal = stored.status.upgrades.proposal
    assert proposal is not None and (proposal.generation, proposal.versions) == (
        6,
        {"tempo": "2.2.4"},
    )
    assert proposal.message_id


def test_a_proposal_that_could_not_be_published_does_not_hold_the_next_one_back(
    in_process: tuple[dict[str, str], str],
    cluster: ClusterAccess,
    namespace: str,
    local_stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env, specs = in_process
    auto = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}}
    put_platform(cluster, namespace, "obs", {"tempo": auto}, {"tempo": "2.2.3"})
    topics = Topics.from_environment(env)
    publisher = pubsub_v1.PublisherClient()
    publisher.delete_topic(topic=topics.path(SPECS))
    monkeypatch.setattr(outcomes, "PUBLISH_TIMEOUT", 2.0)

    failed = check_now(env, f"{namespace}/obs")
    assert upgrades_function.record_report(failed, env) == 0

    assert failed.proposal == {}
    assert f"publishing to {topics.name(SPECS)} failed" in failed.proposal_note
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.status.upgrades is not None
    assert stored.status.upgrades.proposal is None
    assert stored.status.upgrades.available == "tempo 2.2.4 (patch)"

    # The topic is back: the next tick proposes at once, held back by nothing.
    serving.ensure_topics(local_stack, topics)
    pubsub_v1.SubscriberClient().create_subscription(
        name=f"{specs}-again", topic=topics.path(SPECS)
    )
    again = check_now(env, f"{namespace}/obs")
    assert upgrades_function.record_report(again, env) == 1
    ((spec, _),) = published_specs(f"{specs}-again")
    assert spec["spec"]["tempo"]["chartVersion"] == "2.2.4"


def test_a_tick_out_of_time_reports_what_it_left_for_the_next_one(
    in_process: tuple[dict[str, str], str],
) -> None:
    env, specs = in_process
    # No time at all for the work: the summary still goes out, naming what was not checked,
    # and the tick is acknowledged (a redelivery would only start over).
    tick = CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/upgrade-checks",
        },
        {"message": {"data": base64.b64encode(b"{}").decode(), "messageId": "tick-1"}},
    )
    summary = upgrades_function.handle(tick, {**env, "GUNJ_WORK_SECONDS": "0"})

    assert summary["cluster_errors"] == {"local": "not checked: the run's time was up"}
    assert (summary["platforms"], summary["proposed"]) == (0, 0)
    assert published_specs(specs) == []

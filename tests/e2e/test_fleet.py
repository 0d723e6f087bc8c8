"""The fleet as one, on the local stack's clusters (``local``, ``local-2``, ``local-3``) with the
Firestore emulator and the real functions under functions-framework:

- the fleet view: ``gunj status`` without ``--cluster`` lists every platform of every cluster
  from the summaries the reconcile function wrote, ``--live`` asks every cluster at once and
  names the one whose API server does not answer, ``gunj fleet`` summarises them;
- a fleet-wide quarantine: an alert that rolls a chart version back on ``local`` (the rollback
  function) holds that version on ``local-2`` and ``local-3``: neither the reconcile function
  nor the engine applies it there, the upgrade check does not offer it; ``gunj unquarantine
  --fleet`` lifts it everywhere, and it is applied then.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cache import cache_root
from shared.cli.main import main
from shared.clusters import current_context_of
from shared.engine.reconciler import Reconciler
from shared.engine.resource import read_platform
from shared.engine.settings import EngineSettings
from shared.fleet import quarantines, summaries
from shared.fleet.holds import StoreHolds
from shared.fleet.settings import EMULATOR, PROJECT
from shared.fleet.store import Store
from shared.handlers import topics as names
from shared.handlers.fleet import record_summary
from shared.helm.releases import ReleaseStore
from shared.helm.repositories import RepositorySettings
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from shared.upgrades.catalog import RunCatalog
from shared.upgrades.run import check_fleet
from tests.e2e.harness import ServedFunction, served_function
from tests.engine_support import SMALL_PROMETHEUS, platform
from tests.fleet_support import kubeconfig_of_silent_server
from tests.servers import silent_server

NAMES = ("local", "local-2", "local-3")
GOOD, BAD = "29.26.0", "29.27.0"


@pytest.fixture
def clusters(fleet_stack: Stack) -> dict[str, Path]:
    """The kubeconfig of each of the stack's three clusters, by the name it is registered
    under."""
    return {name: fleet_stack.kubeconfigs[name] for name in NAMES}


@pytest.fixture
def namespaces(clusters: dict[str, Path]) -> Iterator[dict[str, str]]:
    """A namespace of the test's own in each cluster (named apart, so a platform names its
    cluster in every listing)."""
    stem = uuid.uuid4().hex[:6]
    made = {name: f"t-fleet-{stem}-{index}" for index, name in enumerate(clusters)}
    for name, kubeconfig in clusters.items():
        ClusterAccess(kubeconfig).ensure_namespace(made[name], labels={"gunj.io/test": "true"})
    yield made
    for name, kubeconfig in clusters.items():
        ClusterAccess(kubeconfig).delete_namespace(made[name])


def with_silent_cluster(registry: Path, kubeconfig: Path, folder: Path) -> Path:
    """``registry`` with one more cluster, ``silent``, whose API server does not answer."""
    entries = yaml.safe_load(registry.read_text())
    entries["silent"] = {"kubeconfig": str(kubeconfig), "context": current_context_of(kubeconfig)}
    path = folder / "with-silent.yaml"
    path.write_text(yaml.safe_dump(entries))
    return path


def store_environment(store: Store) -> dict[str, str]:
    assert store.settings.emulator is not None
    return {EMULATOR: store.settings.emulator, PROJECT: store.settings.project}


def gunj(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *words: str, **env: str
) -> tuple[int, Any]:
    """Run a gunj command in this process; its exit code and its JSON answer."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    code = main([*words, "-o", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def engine_for(name: str, kubeconfig: Path, stack: Stack, store: Store, cache: Path) -> Reconciler:
    """The engine in this process for one cluster, holding what the fleet store holds."""
    return Reconciler(
        name,
        ClusterAccess(kubeconfig),
        EngineSettings(helm_binary=stack.helm[3], cache=cache),
        repositories=RepositorySettings.from_environment(stack.environment()),
        fleet=StoreHolds(store),
    )


def spec_text(namespace: str, version: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": "obs", "namespace": namespace},
            "spec": {"prometheus": {**SMALL_PROMETHEUS, "chartVersion": version}},
        }
    )


def test_the_fleet_view_lists_every_platform_and_names_the_cluster_that_does_not_answer(
    local_stack: Stack,
    clusters: dict[str, Path],
    fleet_registry: Path,
    namespaces: dict[str, str],
    fleet_store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = fleet_registry
    env = {"GUNJ_CLUSTERS": str(registry), **store_environment(fleet_store)}
    with served_function(
        "reconcile", local_stack, tmp_path, helm=local_stack.helm[3], clusters=registry, env=env
    ) as reconcile:
        sent = {
            name: reconcile.publish(spec_text(namespaces[name], GOOD), cluster=name)
            for name in clusters
        }
        for name, message_id in sent.items():
            outcome = reconcile.final(message_id)
            assert (outcome["result"], outcome["cluster"]) == ("ready", name), outcome
            assert "fleet" not in outcome, outcome  # the summary was written

    recorded = {(s["cluster"], s["namespace"]) for s in summaries.list_all(fleet_store)}
    assert recorded == {(name, namespaces[name]) for name in clusters}

    with silent_server() as silent:
        dead = kubeconfig_of_silent_server(silent.url, tmp_path)
        fleet = with_silent_cluster(registry, dead, tmp_path)
        monkeypatch.setenv("GUNJ_CLUSTERS", str(fleet))

        # From the store: every platform, as the functions last summarised it.
        code, stored = gunj(capsys, monkeypatch, "status", **store_environment(fleet_store))
        assert code == 0, stored
        assert stored["source"] == "store"
        listed = {(p["cluster"], p["namespace"]): p for p in stored["platforms"]}
        assert set(listed) == recorded
        for (_name, _namespace), summary in listed.items():
            assert summary["phase"] == "Ready"
            assert summary["components"]["prometheus"]["chartVersion"] == GOOD

        # Every cluster asked now: the same platforms, and the silent one named.
        code, live = gunj(capsys, monkeypatch, "status", "--live")
        assert code == 3, live
        assert live["source"] == "clusters"
        assert {(p["cluster"], p["namespace"]) for p in live["platforms"]} >= recorded
        assert list(live["unreachable"]) == ["silent"]
        assert "silent" in live["unreachable"]["silent"]

        code, summary = gunj(capsys, monkeypatch, "fleet", "--live")
        assert code == 3
        by_name = {c["name"]: c for c in summary["clusters"]}
        assert by_name["silent"]["reachable"] is False and by_name["silent"]["error"]
        assert all(by_name[name]["reachable"] for name in clusters)
        waves = {name: by_name[name]["wave"] for name in clusters}
        assert waves == {"local": "canary", "local-2": "early", "local-3": "main"}
        mine = [
            where
            for where in summary["versions"]["prometheus"][f"prometheus {GOOD}"]
            if any(where == f"{n}/{namespaces[n]}/obs" for n in clusters)
        ]
        assert len(mine) == len(clusters)


def alert(cluster: str, namespace: str, starts: Any, fingerprint: str) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "PrometheusNotReady",
                    "gunj_cluster": cluster,
                    "gunj_platform": f"{namespace}/obs",
                    "gunj_component": "prometheus",
                },
                "startsAt": starts.isoformat().replace("+00:00", "Z"),
                "fingerprint": fingerprint,
            }
        ],
    }


@pytest.fixture
def functions(
    local_stack: Stack, fleet_registry: Path, fleet_store: Store, tmp_path: Path
) -> Iterator[tuple[ServedFunction, ServedFunction, Path]]:
    """The rollback and reconcile functions, on the same topics, registry and store."""
    registry = fleet_registry
    env = {"GUNJ_CLUSTERS": str(registry), **store_environment(fleet_store)}
    topics = names.Topics(local_stack.pubsub_project, f"t{uuid.uuid4().hex[:8]}")
    helm = local_stack.helm[3]
    with (
        served_function(
            "rollback", local_stack, tmp_path, helm=helm, clusters=registry, env=env, topics=topics
        ) as rollback,
        served_function(
            "reconcile", local_stack, tmp_path, helm=helm, clusters=registry, env=env, topics=topics
        ) as reconcile,
    ):
        yield rollback, reconcile, registry


def test_an_alert_rollback_on_one_cluster_holds_the_version_on_every_cluster_until_lifted(
    local_stack: Stack,
    clusters: dict[str, Path],
    namespaces: dict[str, str],
    fleet_store: Store,
    functions: tuple[ServedFunction, ServedFunction, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rollback, reconcile, registry = functions
    a, b, c = NAMES
    cache = tmp_path / "engine-cache"
    engines = {n: engine_for(n, clusters[n], local_stack, fleet_store, cache) for n in NAMES}

    def release(name: str) -> tuple[int | None, str | None]:
        found = ReleaseStore(engines[name].access).observe("obs-prometheus", namespaces[name])
        return found.revision, found.chart_version

    def apply(name: str, version: str) -> Any:
        wanted = platform(
            namespaces[name], prometheus={**SMALL_PROMETHEUS, "chartVersion": version}
        )
        return engines[name].apply(wanted)

    for name in NAMES:
        assert apply(name, GOOD).result == "ready"
    assert apply(a, BAD).result == "ready"
    assert release(a) == (2, BAD)

    # The alert: rolled back on local, and held on every cluster.
    stored = ClusterAccess(clusters[a])
    before = read_platform(stored, namespaces[a], "obs")
    assert before is not None
    changed = before.status.components["prometheus"].last_changed
    assert changed is not None
    starts = changed + timedelta(seconds=5)
    rolled = rollback.final(
        rollback.publish(json.dumps(alert(a, namespaces[a], starts, f"fp-{uuid.uuid4().hex}")))
    )
    assert rolled["result"] == "rolled-back", rolled
    assert f"Held on every cluster: prometheus chart prometheus {BAD}" in rolled["message"]
    assert release(a) == (3, GOOD)
    (held,) = quarantines.list_all(fleet_store)
    assert (held.component, held.chart, held.chart_version, held.cluster) == (
        "prometheus",
        "prometheus",
        BAD,
        a,
    )
    assert held.platform == f"{namespaces[a]}/obs" and held.incident

    # local-2, through the reconcile function: held, not upgraded.
    outcome = reconcile.final(reconcile.publish(spec_text(namespaces[b], BAD), cluster=b))
    assert outcome["result"] == "stalled", outcome
    (component,) = outcome["components"]
    assert component["state"] == "Held" and component["actions"] == []
    assert f"quarantined fleet-wide (rolled back on cluster {a}" in component["message"]
    assert (
        f"gunj unquarantine {namespaces[b]}/obs prometheus {BAD} --fleet" in (component["message"])
    )
    assert release(b) == (1, GOOD)
    summary = summaries.get(fleet_store, b, namespaces[b], "obs")
    assert summary is not None and summary["components"]["prometheus"]["state"] == "Held"

    # local-3, through the engine: held too.
    kept = apply(c, BAD)
    assert kept.result == "stalled" and kept.components[0].state == "Held"
    assert release(c) == (1, GOOD)

    # The upgrade check offers it nowhere (without the fleet's quarantines it would).
    catalog = RunCatalog.for_run(
        RepositorySettings.from_environment(local_stack.environment()), cache_root()
    )

    def access_of(cluster: str, namespace: str | None = None) -> ClusterAccess:
        return engines[cluster].access

    def offered(store: Store | None) -> set[str]:
        reports, failed = check_fleet([c], access_of, catalog, fleet_store=store)
        assert not failed
        return {
            offer.version
            for report in reports
            if report.namespace == namespaces[c]
            for check in report.components
            for offer in (check.newest_patch, check.newest_minor, check.newest_major)
            if offer is not None
        }

    assert BAD in offered(None)
    assert BAD not in offered(fleet_store)

    # The store is lost: the platform's first summary written again puts the quarantine back.
    env = {
        "GUNJ_CLUSTERS": str(registry),
        "GUNJ_HELM_BINARY": str(local_stack.helm[3]),
        **store_environment(fleet_store),
    }
    resynced = {"platform": f"{namespaces[a]}/obs", "cluster": a, "result": "ready"}
    for collection in ("platforms", "quarantines"):
        for document_id, _ in fleet_store.list(collection):
            fleet_store.delete(collection, document_id)
    record_summary(dict(resynced), env)
    (again,) = quarantines.list_all(fleet_store)
    assert (again.chart_version, again.cluster, again.incident) == (BAD, a, held.incident)

    # Lifted on every cluster: the fleet's hold and local's own.
    code, lifted = gunj(
        capsys,
        monkeypatch,
        "unquarantine",
        f"{namespaces[a]}/obs",
        "prometheus",
        BAD,
        "--fleet",
        GUNJ_CLUSTERS=str(registry),
        GUNJ_HELM_BINARY=str(local_stack.helm[3]),
        **store_environment(fleet_store),
    )
    assert code == 0, lifted
    assert [q["chartVersion"] for q in lifted["fleet"]] == [BAD]
    assert [(p["cluster"], p["platform"], p["result"]) for p in lifted["platforms"]] == [
        (a, f"{namespaces[a]}/obs", "ready")
    ]
    assert quarantines.list_all(fleet_store) == []
    after = read_platform(stored, namespaces[a], "obs")
    assert after is not None and after.status.quarantined_versions == []
    record_summary(dict(resynced), env)  # a lifted quarantine does not come back
    assert quarantines.list_all(fleet_store) == []

    # And applied where it was held.
    upgraded = reconcile.final(reconcile.publish(spec_text(namespaces[b], BAD), cluster=b))
    assert upgraded["result"] == "ready", upgraded
    assert release(b) == (2, BAD)


def test_a_fleet_store_that_is_down_fails_no_platforms_work_and_the_outcome_says_so(
    local_stack: Stack,
    fleet_registry: Path,
    namespaces: dict[str, str],
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port of 127.0.0.1 nothing listens on
        probe.bind(("127.0.0.1", 0))
        down = f"127.0.0.1:{probe.getsockname()[1]}"
    env = {EMULATOR: down, PROJECT: "nobody-home"}
    namespace = namespaces["local"]
    helm = local_stack.helm[3]
    with served_function(
        "reconcile", local_stack, tmp_path, helm=helm, clusters=fleet_registry, env=env
    ) as reconcile:
        installed = reconcile.final(reconcile.publish(spec_text(namespace, GOOD), cluster="local"))
        assert installed["result"] == "ready", installed
        assert "the platform's fleet summary was not written" in installed["fleet"]
        assert f"the emulator at {down}" in installed["fleet"]

        # An upgrade: the fleet's quarantines cannot be checked, the platform's own rules
        # hold, and the outcome says the fleet's were not checked.
        upgraded = reconcile.final(reconcile.publish(spec_text(namespace, BAD), cluster="local"))
        assert upgraded["result"] == "ready", upgraded
        assert upgraded["components"][0]["chart_version"] == BAD
        assert "fleet quarantines not checked" in upgraded["message"]
        assert "fleet summary was not written" in upgraded["fleet"]

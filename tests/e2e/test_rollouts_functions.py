"""Rollouts through the real upgrades function (functions-framework, the Pub/Sub and Firestore
emulators, the local cluster): a version younger than the spec's minimumReleaseAge is not
proposed, and the report says when it will be; with a fleet store, an automatic upgrade is a
rollout proposed to one wave's clusters at a time, each once the previous wave is Ready at the
version; an alert rollback of the version in the first wave halts the rollout before the
second (the real rollback function).

The platforms' summaries, which the reconcile records after each outcome, are written by the
test here: the proposals are published to the test's own topics, which no reconcile reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.fleet import rollouts
from shared.fleet.store import Store
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.e2e.test_alert_rollback import alertmanager
from tests.e2e.test_rollouts_store import Published
from tests.e2e.test_upgrade_checks import component, put_platform
from tests.engine_support import SMALL_PROMETHEUS, Engine, platform
from tests.fleet_support import ready_at


def reports(served: ServedFunction) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["cluster"], r["platform"]): r for r in served.reports}


def test_a_version_younger_than_the_minimum_release_age_is_not_proposed(
    engine_helm3: Engine, local_stack: Stack, tmp_path: Path, namespace: str, cluster: ClusterAccess
) -> None:
    # The local repositories were indexed when the stack was built: every version is new.
    spec = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch"}}
    put_platform(cluster, namespace, "obs", {"tempo": spec}, {"tempo": "2.2.3"})
    clusters = registry_file(local_stack, tmp_path)
    with served_function(
        "upgrades", local_stack, tmp_path, helm=engine_helm3.helm.binary.path, clusters=clusters
    ) as upgrades:
        upgrades.publish(json.dumps({"clusters": ["local"], "platform": f"{namespace}/obs"}))
        summary = upgrades.fleet_report()

    report = reports(upgrades)[("local", f"{namespace}/obs")]
    assert report["error"] is None, report
    tempo = component(report, "tempo")
    assert summary["proposed"] == 0
    assert report["proposal"] == {}
    assert tempo["newest_patch"]["version"] == "2.2.4"
    assert tempo["proposal"] is None
    assert tempo["why_not"].startswith("2.2.4 published ")
    assert tempo["why_not"].endswith("; proposed after 3d (upgradePolicy.minimumReleaseAge)")


def test_an_automatic_upgrade_goes_through_three_waves_in_order(
    engine_helm3: Engine,
    local_stack: Stack,
    tmp_path: Path,
    namespace: str,
    fleet: dict[str, ClusterAccess],
    fleet_registry: Path,
    fleet_store: Store,
) -> None:
    spec = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}}
    names = ["local", "local-2", "local-3"]
    for name in names:
        put_platform(fleet[name], namespace, "obs", {"tempo": spec}, {"tempo": "2.2.3"})
    env = {
        "GUNJ_FLEET_PROJECT": fleet_store.settings.project,
        "FIRESTORE_EMULATOR_HOST": fleet_store.settings.emulator or "",
    }
    platform = f"{namespace}/obs"
    tick = json.dumps({"platform": platform})
    proposed: list[list[str]] = []
    waves: list[str | None] = []
    try:
        with served_function(
            "upgrades",
            local_stack,
            tmp_path,
            helm=engine_helm3.helm.binary.path,
            clusters=fleet_registry,
            env=env,
        ) as upgrades:
            for name in [*names, None]:
                upgrades.reports.clear()
                upgrades.publish(tick)
                summary = upgrades.fleet_report()
                waves.append(summary["rollouts"]["tempo-tempo-2.2.4"]["wave"])
                proposed.append([c for (c, _), r in reports(upgrades).items() if r["proposal"]])
                if name is not None:  # its platform took the upgrade and is Ready
                    ready_at(fleet_store, name, platform, "2.2.4")
            held = reports(upgrades)
    finally:
        for name in names[1:]:
            fleet[name].delete_namespace(namespace)

    assert proposed == [["local"], ["local-2"], ["local-3"], []]
    assert waves == ["canary", "early", "main", None]
    done = rollouts.get(fleet_store, "tempo-tempo-2.2.4")
    assert done is not None and done.state == "done"
    assert [w.state for w in done.waves] == ["done", "done", "done"]
    # Each platform got its proposal once: the last check finds each one's in flight.
    assert all("in flight" in r["proposal_note"] for r in held.values()), held


def test_an_alert_rollback_in_wave_one_halts_the_rollout_before_wave_two(
    engine_helm3: Engine,
    local_stack: Stack,
    tmp_path: Path,
    namespace: str,
    fleet_store: Store,
) -> None:
    small = {**SMALL_PROMETHEUS, "chartVersion": "29.26.0"}
    assert engine_helm3.apply(platform(namespace, prometheus=small)).result == "ready"
    upgraded = {**SMALL_PROMETHEUS, "chartVersion": "29.27.0"}
    assert engine_helm3.apply(platform(namespace, prometheus=upgraded)).result == "ready"
    changed = engine_helm3.status(namespace).components["prometheus"].last_changed
    assert changed is not None
    # The canary wave of the rollout of 29.27.0 is applying: local got it.
    rollout, _ = rollouts.ensure_upgrade(
        fleet_store,
        "prometheus",
        "prometheus",
        "29.27.0",
        waves=[("canary", ["local"]), ("early", ["local-2"])],
        targets={"local": [f"{namespace}/obs"], "local-2": [f"{namespace}/obs"]},
    )
    out = Published()
    assert rollouts.advance(fleet_store, rollout.id, rollouts.publisher_of_waves(out)).published
    env = {
        "GUNJ_FLEET_PROJECT": fleet_store.settings.project,
        "FIRESTORE_EMULATOR_HOST": fleet_store.settings.emulator or "",
    }
    labels = {
        "alertname": "PrometheusNotReady",
        "gunj_cluster": "local",
        "gunj_platform": f"{namespace}/obs",
        "gunj_component": "prometheus",
    }
    firing = alertmanager("firing", labels, changed + timedelta(seconds=5), "fp-rollout")
    with served_function(
        "rollback",
        local_stack,
        tmp_path,
        helm=engine_helm3.helm.binary.path,
        clusters=registry_file(local_stack, tmp_path),
        env=env,
    ) as served:
        outcome = served.final(served.publish(json.dumps(firing)))

    assert outcome["result"] == "rolled-back", outcome
    assert outcome["rollouts_halted"] == [rollout.id]
    halted = rollouts.get(fleet_store, rollout.id)
    assert halted is not None and halted.state == "halted"
    assert halted.halted_by == f"alert rollback of prometheus 29.27.0 on local/{namespace}/obs"
    # Even with the canary Ready again, no step starts the second wave.
    later = rollouts.advance(
        fleet_store,
        rollout.id,
        rollouts.publisher_of_waves(out),
        now=datetime.now(UTC) + timedelta(days=1),
    )
    assert [w.state for w in later.rollout.waves] == ["halted", "pending"]
    assert [m[2]["clusters"] for m in out.messages] == [["local"]]

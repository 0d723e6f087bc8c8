"""Rollouts through the real upgrades function (functions-framework, the Pub/Sub and Firestore
emulators, the local cluster): a version younger than the spec's minimumReleaseAge is not
proposed, and the report says when it will be; with a fleet store, an automatic upgrade is a
rollout proposed to the first wave's cluster only, and a later tick moves it to the next wave
once the first wave's platform is Ready at the version.

The platforms' summaries, which the reconcile records after each outcome, are written by the
test here: the proposals are published to the test's own topics, which no reconcile reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.fleet import rollouts
from shared.fleet.progress import summary_key
from shared.fleet.settings import FleetSettings
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.e2e.test_upgrade_checks import component, put_platform
from tests.engine_support import Engine

if TYPE_CHECKING:
    from google.cloud import firestore


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


def ready_at(store: firestore.Client, cluster: str, platform: str, version: str) -> None:
    """The platform's summary as the reconcile records it after its upgrade: Ready, tempo at
    ``version``."""
    store.collection("platforms").document(summary_key(cluster, platform)).set(
        {
            "cluster": cluster,
            "phase": "Ready",
            "ready": True,
            "components": {"tempo": {"chart": "tempo", "chartVersion": version}},
            "updatedAt": datetime.now(UTC),
        }
    )


def test_an_automatic_upgrade_goes_through_three_waves_in_order(
    engine_helm3: Engine,
    local_stack: Stack,
    tmp_path: Path,
    namespace: str,
    fleet: dict[str, ClusterAccess],
    fleet_registry: Path,
    fleet_settings: FleetSettings,
    fleet_store: firestore.Client,
) -> None:
    spec = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}}
    names = ["local", "local-2", "local-3"]
    for name in names:
        put_platform(fleet[name], namespace, "obs", {"tempo": spec}, {"tempo": "2.2.3"})
    env = {
        "GUNJ_FLEET_PROJECT": fleet_settings.project,
        "FIRESTORE_EMULATOR_HOST": fleet_settings.emulator or "",
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

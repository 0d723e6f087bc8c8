"""Rollouts through the real upgrades function (functions-framework, the Pub/Sub and Firestore
emulators, the local cluster): a version younger than the spec's minimumReleaseAge is not
proposed, and the report says when it will be; with a fleet store, an automatic upgrade is a
rollout proposed to the first wave's cluster only, and a later tick moves it to the next wave
once the first wave's platform is Ready at the version.

The second cluster of the registry is the local cluster again under another name, in the wave
after it: what the function decides per cluster is the same as with two clusters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.clusters import current_context_of
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


def test_an_automatic_upgrade_is_a_rollout_that_goes_wave_by_wave(
    engine_helm3: Engine,
    local_stack: Stack,
    tmp_path: Path,
    namespace: str,
    cluster: ClusterAccess,
    fleet_settings: FleetSettings,
    fleet_store: firestore.Client,
) -> None:
    spec = {"chartVersion": "2.2.3", "upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}}
    put_platform(cluster, namespace, "obs", {"tempo": spec}, {"tempo": "2.2.3"})
    clusters = registry_file(
        local_stack,
        tmp_path,
        **{
            "local-2": {
                "kubeconfig": str(local_stack.kubeconfig),
                "context": current_context_of(local_stack.kubeconfig),
                "wave": "early",
            }
        },
    )
    # The first cluster goes first.
    text = clusters.read_text().replace("aliases:", "wave: canary\n  aliases:", 1)
    clusters.write_text(text)
    env = {
        "GUNJ_FLEET_PROJECT": fleet_settings.project,
        "FIRESTORE_EMULATOR_HOST": fleet_settings.emulator or "",
    }
    tick = json.dumps({"platform": f"{namespace}/obs"})
    with served_function(
        "upgrades",
        local_stack,
        tmp_path,
        helm=engine_helm3.helm.binary.path,
        clusters=clusters,
        env=env,
    ) as upgrades:
        upgrades.publish(tick)
        first = upgrades.fleet_report()
        canary = reports(upgrades)[("local", f"{namespace}/obs")]
        early = reports(upgrades)[("local-2", f"{namespace}/obs")]

        assert canary["proposal"] == {"tempo": "2.2.4"}
        assert early["proposal"] == {}
        assert early["proposal_note"] == (
            "not proposed now: tempo 2.2.4 waits for its wave (rollout tempo-tempo-2.2.4 is in "
            "wave canary)"
        )
        assert first["rollouts"]["tempo-tempo-2.2.4"]["wave"] == "canary"
        stored = rollouts.get(fleet_store, "tempo-tempo-2.2.4")
        assert stored is not None
        assert stored.targets == {"local": [f"{namespace}/obs"], "local-2": [f"{namespace}/obs"]}

        # The canary's platform reports Ready at 2.2.4 (its summary, as the reconcile records
        # it); the next tick ends the wave and starts the next.
        fleet_store.collection("platforms").document(summary_key("local", f"{namespace}/obs")).set(
            {
                "cluster": "local",
                "phase": "Ready",
                "ready": True,
                "components": {"tempo": {"chart": "tempo", "chartVersion": "2.2.4"}},
                "updatedAt": datetime.now(UTC),
            }
        )
        upgrades.reports.clear()
        upgrades.publish(tick)
        second = upgrades.fleet_report()

    assert second["rollouts"]["tempo-tempo-2.2.4"]["wave"] == "early"
    moved = rollouts.get(fleet_store, "tempo-tempo-2.2.4")
    assert moved is not None
    assert [w.state for w in moved.waves] == ["done", "applying"]

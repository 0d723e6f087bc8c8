"""A minor upgrade rolled out through three waves of the local fleet, through the served upgrades
function, the Pub/Sub emulator and the Firestore emulator, as Google Cloud runs it.

    .venv/bin/python bench/bench_fleet.py [--platforms 30] [--bake 5]

The local stack's three clusters (``gunj local up --clusters 3``: local canary, local-2 early,
local-3 main) get N platforms each whose status says tempo 2.2.3 runs, with
``upgradePolicy: {auto: minor, minimumReleaseAge: 0}`` (no releases are installed: what is
measured is the rollout, not Helm). Each wave is one upgrade-check tick: the function checks the
fleet, takes the rollout's step and proposes tempo's newest minor to the current wave's
platforms. The benchmark then records each proposed platform's summary as Ready at the new
version (what the reconcile function records after the upgrade), waits the bake
(``GUNJ_ROLLOUT_BAKE``, shortened here) and ticks again. Printed per wave: the tick's time, the
proposals published, and the API requests the three API servers served meanwhile (their own
``apiserver_request_total``, the clusters' controllers included); the rollout's writes (its
revision). Then the time from an alert on a canary platform (a real Prometheus upgrade rolled
back by the served rollback function) to its outcome, which comes once the version is
quarantined for the whole fleet and the rollout of that version halted.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_resync import requests_served  # noqa: E402
from shared.engine.resource import apply_platform, ensure_crd, write_status  # noqa: E402
from shared.fleet import quarantines, rollouts  # noqa: E402
from shared.fleet.settings import FleetSettings  # noqa: E402
from shared.fleet.store import Store  # noqa: E402
from shared.helm import HelmClient  # noqa: E402
from shared.kube import ClusterAccess  # noqa: E402
from shared.localstack import stack as localstack  # noqa: E402
from shared.values.spec.status import PlatformStatus  # noqa: E402
from shared.values.validation import validate  # noqa: E402
from tests.e2e.harness import served_function  # noqa: E402
from tests.engine_support import SMALL_PROMETHEUS, make_engine, platform  # noqa: E402
from tests.fleet_support import fleet_registry_file, ready_at  # noqa: E402

CLUSTERS = 3
TEMPO = {"upgradePolicy": {"auto": "minor", "minimumReleaseAge": 0}}


def populate(access: ClusterAccess, namespace: str, count: int) -> None:
    ensure_crd(access)
    access.ensure_namespace(namespace)
    status = PlatformStatus.model_validate(
        {
            "phase": "Ready",
            "components": {
                "tempo": {
                    "mode": "helm",
                    "state": "InSync",
                    "chart": "tempo",
                    "chartVersion": "2.2.3",
                }
            },
        }
    )
    for index in range(count):
        document = {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": f"p{index}", "namespace": namespace},
            "spec": {"tempo": TEMPO},
        }
        parsed = validate(document).platform
        assert parsed is not None
        apply_platform(access, parsed, generation=None, source="bench")
        write_status(access, namespace, f"p{index}", status)


def registry_file(running: localstack.Stack, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return fleet_registry_file(running.kubeconfigs, folder / "clusters.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platforms", type=int, default=30, help="per cluster (30)")
    parser.add_argument("--bake", type=int, default=5, help="seconds each wave bakes (5)")
    arguments = parser.parse_args()
    running = localstack.up(clusters=CLUSTERS)
    access = {name: ClusterAccess(path) for name, path in running.kubeconfigs.items()}
    namespace = f"bench-fleet-{uuid.uuid4().hex[:6]}"
    print(f"creating {arguments.platforms} platforms in each of {', '.join(access)} ...")
    for cluster in access.values():
        populate(cluster, namespace, arguments.platforms)
    settings = FleetSettings(
        project=f"bench-{uuid.uuid4().hex[:8]}", emulator=running.firestore_host
    )
    store = Store(settings)
    env = {
        "GUNJ_FLEET_PROJECT": settings.project,
        "FIRESTORE_EMULATOR_HOST": running.firestore_host,
        "GUNJ_ROLLOUT_BAKE": str(arguments.bake),
    }
    waves: list[dict[str, Any]] = []
    rollout_id = ""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clusters = registry_file(running, work)
        helm = running.helm[3]
        try:
            with served_function(
                "upgrades", running, work, helm=helm, clusters=clusters, env=env
            ) as upgrades:
                for _ in range(CLUSTERS + 1):
                    upgrades.reports.clear()
                    before = sum(requests_served(a) for a in access.values())
                    started = time.perf_counter()
                    upgrades.publish(json.dumps({}))
                    summary = upgrades.fleet_report(timeout=600)
                    took = time.perf_counter() - started
                    after = sum(requests_served(a) for a in access.values())
                    proposed = [
                        (r["cluster"], r["platform"])
                        for r in upgrades.reports
                        if r["proposal"] and r["platform"].startswith(f"{namespace}/")
                    ]
                    state = next(iter((summary.get("rollouts") or {}).items()), (None, {}))
                    rollout_id = state[0] or rollout_id
                    waves.append(
                        {
                            "wave": state[1].get("wave"),
                            "seconds": took,
                            "proposed": len(proposed),
                            "clusters": sorted({c for c, _ in proposed}),
                            "requests": after - before,
                        }
                    )
                    versions = {
                        v for r in upgrades.reports for v in r["proposal"].values() if r["proposal"]
                    }
                    for cluster, name in proposed:
                        ready_at(store, cluster, name, next(iter(versions)))
                    time.sleep(arguments.bake)
            stored = rollouts.get(store, rollout_id) if rollout_id else None
            halt = alert_to_halt(running, work, store, env)
        finally:
            for cluster in access.values():
                cluster.delete_namespace(namespace)
    print(
        f"\nrollout of tempo's newest minor to {CLUSTERS} clusters x {arguments.platforms} "
        f"platforms, bake {arguments.bake}s, local stack"
    )
    print(
        f"  {'tick':<6}{'wave after':<12}{'time':>9}{'proposed':>10}  {'to':<22}"
        f"{'API requests':>13}"
    )
    for index, wave in enumerate(waves, 1):
        print(
            f"  {index:<6}{wave['wave'] or 'done':<12}{wave['seconds']:>8.1f}s"
            f"{wave['proposed']:>10}  {','.join(wave['clusters']) or '-':<22}"
            f"{wave['requests']:>13.0f}"
        )
    if stored is not None:
        print(
            f"  rollout {stored.id}: {stored.state}, {stored.revision} writes "
            f"({' '.join(f'{w.name}:{w.state}' for w in stored.waves)})"
        )
    print(
        f"  alert on a canary platform -> rollout halted and the version quarantined on every "
        f"cluster: {halt:.1f}s (the rollback included)"
    )
    print(
        "\ncommand: .venv/bin/python bench/bench_fleet.py "
        f"--platforms {arguments.platforms} --bake {arguments.bake}"
    )


def alert_to_halt(
    running: localstack.Stack, work: Path, store: Store, env: dict[str, str]
) -> float:
    """Seconds from an alert about a canary platform's Prometheus upgrade to the rollback
    function's outcome, which quarantines the version fleet-wide and halts its rollout (the
    outcome comes when both are written)."""
    from tests.e2e.test_alert_rollback import alertmanager

    (work / "engine").mkdir(parents=True, exist_ok=True)
    helm = HelmClient.for_path(running.helm[3], home=work / "engine" / "helm-home")
    engine = make_engine(helm, running, work / "engine", work / "engine" / "cache")
    namespace = f"bench-alert-{uuid.uuid4().hex[:6]}"
    local = ClusterAccess(running.kubeconfig)
    local.ensure_namespace(namespace)
    try:
        engine.apply(
            platform(namespace, prometheus={**SMALL_PROMETHEUS, "chartVersion": "29.26.0"})
        )
        engine.apply(
            platform(namespace, prometheus={**SMALL_PROMETHEUS, "chartVersion": "29.27.0"})
        )
        changed = engine.status(namespace).components["prometheus"].last_changed
        assert changed is not None
        rollout, _ = rollouts.ensure_upgrade(
            store,
            "prometheus",
            "prometheus",
            "29.27.0",
            waves=[("canary", ["local"]), ("early", ["local-2"]), ("main", ["local-3"])],
            targets={"local": [f"{namespace}/obs"]},
        )
        labels = {
            "alertname": "PrometheusNotReady",
            "gunj_cluster": "local",
            "gunj_platform": f"{namespace}/obs",
            "gunj_component": "prometheus",
        }
        firing = alertmanager("firing", labels, changed + timedelta(seconds=5), "bench")
        clusters = registry_file(running, work / "alert")
        with served_function(
            "rollback", running, work / "alert", helm=running.helm[3], clusters=clusters, env=env
        ) as served:
            started = time.perf_counter()
            outcome = served.final(served.publish(json.dumps(firing)), timeout=600)
            took = time.perf_counter() - started
        halted = rollouts.get(store, rollout.id)
        assert outcome.get("rollouts_halted") == [rollout.id], outcome
        assert halted is not None and halted.state == "halted"
        held = quarantines.held(store, "prometheus", "prometheus")
        assert "29.27.0" in held.versions, held
        return took
    finally:
        local.delete_namespace(namespace)


if __name__ == "__main__":
    main()

"""A reconcile killed in the middle of an upgrade: how long from ``kill -9`` of ``gunj apply`` to
the platform ready again, per Helm major, with gunj's defaults (a 60 s Lease, a 5 m operation
timeout), and what the Helm it ran left behind.

    .venv/bin/python bench/bench_lock_recovery.py [--rounds 1]

Per round, in a fresh namespace: a small Prometheus installed by ``gunj apply``, then a second
``gunj apply`` of a change whose pods take 8 s to become ready, killed with SIGKILL once its
upgrade is pending (its Helm gets SIGTERM through the parent-death signal). Then ``gunj apply``
again every second, timed from the kill until one ends ``ready``; each earlier one was
``deferred`` (the killed reconcile's Lease). Prints what the killed Helm left (failed, or
pending with its Helm process gone), the actions of the recovering apply and the time; asserts
nothing about time. Needs the local stack (started or reused; its cluster is registered as
``local``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.cli.local import register
from shared.clusters import current_context_of
from shared.helm.releases import ReleaseState, ReleaseStore
from shared.kube import ClusterAccess
from shared.localstack import stack as localstack

RELEASE = "obs-prometheus"
SMALL = {
    "chartVersion": "29.27.0",
    "storage": {"enabled": False},
    "alertmanager": {"enabled": False},
    "nodeExporter": {"enabled": False},
    "kubeStateMetrics": {"enabled": False},
}
SLOW = {
    **SMALL,
    "retention": "2d",
    "config": {"server": {"podAnnotations": {"gunj.io/ready-after": "8s"}}},
}


def spec(folder: Path, namespace: str, prometheus: dict[str, Any], name: str) -> Path:
    path = folder / f"{name}.yaml"
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": "obs", "namespace": namespace},
        "spec": {"prometheus": prometheus},
    }
    path.write_text(yaml.safe_dump(document))
    return path


def gunj(env: dict[str, str], path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli.main",
            "apply",
            str(path),
            "--cluster",
            "local",
            "--output",
            "json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def bench_round(running: localstack.Stack, major: int, folder: Path) -> str:
    access = ClusterAccess(running.kubeconfig)
    store = ReleaseStore(access)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    access.ensure_namespace(namespace)
    clusters = folder / "clusters.yaml"
    clusters.write_text(
        yaml.safe_dump(
            {
                "local": {
                    "kubeconfig": str(running.kubeconfig),
                    "context": current_context_of(running.kubeconfig),
                }
            }
        )
    )
    env = {
        **os.environ,
        **running.environment(),
        "GUNJ_CLUSTERS": str(clusters),
        "GUNJ_HELM_BINARY": str(running.helm[major]),
        "GUNJ_CACHE_DIR": str(folder / "cache"),
    }
    env.pop("GUNJ_LEASE_SECONDS", None)
    try:
        first = gunj(env, spec(folder, namespace, SMALL, "small"))
        first.communicate()
        killed = gunj(env, spec(folder, namespace, SLOW, "slow"))
        while store.observe(RELEASE, namespace).state is not ReleaseState.LOCKED:
            time.sleep(0.1)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        started = time.monotonic()
        runner = store.observe(RELEASE, namespace).runner
        while runner is not None and not runner.exited():
            time.sleep(0.1)
        left = store.observe(RELEASE, namespace)
        deferred = 0
        while True:
            outcome = json.loads(gunj(env, folder / "slow.yaml").communicate()[0])
            if outcome["result"] != "deferred":
                break
            deferred += 1
            time.sleep(1)
        took = time.monotonic() - started
        state = f"{left.status}" + (", its Helm process gone" if left.runner_exited else "")
        actions = outcome["components"][0]["actions"]
        return (
            f"helm {major}: left {state}; {outcome['result']} after {took:.1f} s "
            f"({deferred} deferred), actions {actions}"
        )
    finally:
        access.delete_namespace(namespace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    rounds = parser.parse_args().rounds
    running = localstack.up()
    register(running)
    for major in (3, 4):
        for _ in range(rounds):
            with tempfile.TemporaryDirectory(prefix="gunj-bench-") as folder:
                print(bench_round(running, major, Path(folder)), flush=True)


if __name__ == "__main__":
    main()

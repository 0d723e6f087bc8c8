"""The fleet resync through the served functions and the Pub/Sub emulator, as Google Cloud runs
it: one tick on ``resync-ticks``, the resync function asking each platform to reconcile from the
spec its cluster holds (one ``platform-specs`` message each), the reconcile function working them
(one Deployment deleted by hand beforehand is put back on the way).

    .venv/bin/python bench/bench_resync.py [--platforms 200] [--mode native|helm]

N platforms of one small Prometheus each (native mode by default: what is measured is the
resync's look, not Helm's install), in namespaces of 20 platforms. Prints the wall time from the
tick to the last platform's outcome, the API requests the API server served meanwhile (from its
own ``apiserver_request_total``, the cluster's controllers included; their share over as long a
quiet period is printed beside it), and the function instances that did the work.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from kubernetes import client  # noqa: E402

from shared.cli.local import register  # noqa: E402
from shared.engine.reconciler import Reconciler  # noqa: E402
from shared.engine.request import Request  # noqa: E402
from shared.engine.settings import EngineSettings  # noqa: E402
from shared.helm.repositories import RepositorySettings  # noqa: E402
from shared.kube import ClusterAccess  # noqa: E402
from shared.localstack import stack as localstack  # noqa: E402
from shared.localstack.benchfunctions import final_outcomes, serve_for_bench  # noqa: E402
from shared.localstack.meters import quiet_rate, requests_served  # noqa: E402
from shared.values.validation import load_platform  # noqa: E402

PER_NAMESPACE = 20
PROMETHEUS = {
    "chartVersion": "29.27.0",
    "storage": {"enabled": False},
    "alertmanager": {"enabled": False},
    "nodeExporter": {"enabled": False},
    "kubeStateMetrics": {"enabled": False},
}


def spec(namespace: str, name: str, mode: str) -> dict[str, Any]:
    return {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"global": {"mode": mode}, "prometheus": PROMETHEUS},
    }


def install(
    running: localstack.Stack, work: Path, platforms: list[tuple[str, str]], mode: str
) -> None:
    access = ClusterAccess(running.kubeconfig)
    engine = Reconciler(
        "local",
        access,
        EngineSettings(helm_binary=running.helm[3], cache=work / "cache"),
        repositories=RepositorySettings.from_environment(running.environment()),
    )

    def one(target: tuple[str, str]) -> str:
        namespace, name = target
        platform = load_platform(yaml.safe_dump(spec(namespace, name, mode)))
        return engine.apply(platform, Request(source="bench")).result

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, platforms))
    failed = [p for p, r in zip(platforms, results, strict=True) if r != "ready"]
    if failed:
        raise SystemExit(f"not ready after install: {failed[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--platforms", type=int, default=200)
    parser.add_argument("--mode", choices=("native", "helm"), default="native")
    arguments = parser.parse_args()
    running = localstack.up()
    register(running)
    access = ClusterAccess(running.kubeconfig)
    suffix = uuid.uuid4().hex[:6]
    namespaces = [
        f"bench-resync-{suffix}-{i}"
        for i in range((arguments.platforms + PER_NAMESPACE - 1) // PER_NAMESPACE)
    ]
    platforms = [(namespaces[i // PER_NAMESPACE], f"p{i}") for i in range(arguments.platforms)]
    with tempfile.TemporaryDirectory(prefix="bench-resync-") as folder:
        work = Path(folder)
        try:
            print(f"installing {len(platforms)} platforms ({arguments.mode} mode)", file=sys.stderr)
            started = time.monotonic()
            install(running, work, platforms, arguments.mode)
            print(f"installed in {time.monotonic() - started:.0f}s", file=sys.stderr)
            figures = resync(running, access, work, platforms, namespaces)
        finally:
            for namespace in namespaces:
                access.delete_namespace(namespace)
    print_figures(figures, arguments.platforms, arguments.mode)


def resync(
    running: localstack.Stack,
    access: ClusterAccess,
    work: Path,
    platforms: list[tuple[str, str]],
    namespaces: list[str],
) -> dict[str, Any]:
    served = serve_for_bench(running, work / "functions")
    # One Deployment deleted by hand, in the first platform: the resync puts it back.
    drifted_namespace, drifted = platforms[0]
    apps = client.AppsV1Api(access.api)
    workload = next(
        d.metadata.name
        for d in apps.list_namespaced_deployment(drifted_namespace).items
        if d.metadata.name.startswith(f"{drifted}-prometheus")
    )
    apps.delete_namespaced_deployment(workload, drifted_namespace)
    quiet = quiet_rate(access)
    before = requests_served(access)
    started = time.monotonic()
    served.tick_resync(namespaces)

    def resynced(received: list[dict[str, Any]]) -> dict[str, Any]:
        return final_outcomes(
            received,
            lambda o: str(o.get("platform")) if o.get("source") == "resync" else None,
        )

    served.wait_for(lambda received: len(resynced(received)) >= len(platforms), timeout=1800)
    elapsed = time.monotonic() - started
    after = requests_served(access)
    served.stop()
    outcomes = resynced(served.received)
    summary = next((d for d in served.received if d.get("kind") == "resync"), {})
    durations = [o.get("duration", 0.0) for o in outcomes.values()]
    results: dict[str, int] = {}
    for outcome in outcomes.values():
        results[outcome["result"]] = results.get(outcome["result"], 0) + 1
    return {
        "elapsed": elapsed,
        "outcomes": len(outcomes),
        "results": results,
        "fan_out": summary.get("duration"),
        "median_reconcile": statistics.median(durations) if durations else 0.0,
        "requests": after - before,
        "quiet": quiet * elapsed,
    }


def line(label: str, value: str) -> None:
    print(f"  {label:<56}{value:>12}")


def print_figures(figures: dict[str, Any], count: int, mode: str) -> None:
    gunj = figures["requests"] - figures["quiet"]
    print(f"\nresync of {count} platforms ({mode} mode, one Prometheus each), local stack")
    line("tick to the last outcome", f"{figures['elapsed']:.1f} s")
    line("the resync function: list and publish", f"{figures['fan_out'] or 0:.1f} s")
    line("median reconcile of one platform", f"{figures['median_reconcile'] * 1000:.0f} ms")
    line("outcomes", f"{figures['outcomes']}")
    print(f"    {figures['results']}")
    line("API requests served meanwhile", f"{figures['requests']:.0f}")
    line("  the cluster's own, at its quiet rate", f"{figures['quiet']:.0f}")
    line("  gunj's, per platform", f"{gunj / max(count, 1):.1f}")
    print(
        "  function instances: one functions-framework process per function, its threads "
        "taking pushes at once\n  (in Google Cloud, Cloud Run starts more instances as the "
        "backlog asks)"
    )


if __name__ == "__main__":
    main()

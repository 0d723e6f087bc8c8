"""Median time of each Helm operation on the local cluster, per Helm major, with the command line
each one issues; and what reading release state from storage and the caches save.

    .venv/bin/python bench/bench_helm.py [--rounds 5]

Needs the local stack (started or reused). Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.helm import HelmClient, KubeTarget
from shared.helm.charts import ChartLibrary, ChartSource
from shared.helm.release_tests import ReleaseTester
from shared.helm.releases import ReleaseStore
from shared.helm.repositories import RepositorySettings, known_repositories
from shared.kube import ClusterAccess
from shared.localstack import stack as localstack

TIMEOUT = timedelta(minutes=2)
TEMPO = ChartSource(known_repositories()["grafana-community"].url, "tempo")


class RecordingClient(HelmClient):
    """Remembers the last command line, with the varying parts made generic."""

    last: Sequence[str] = ()

    def run(self, args: Sequence[str], **kwargs: Any) -> str:
        self.last = args
        return super().run(args, **kwargs)


def generic(args: Sequence[str]) -> str:
    shown, skip = [], False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in {"--kubeconfig", "--values"}:
            shown.append(f"{arg} <{arg.strip('-')}>")
            skip = True
        elif arg == "--namespace":
            shown.append("--namespace <ns>")
            skip = True
        elif arg.endswith(".tgz"):
            shown.append("<cached chart>.tgz")
        elif index and args[index - 1] == "--labels":
            shown[-1] = "--labels gunj.io/desired=<digest>"
        else:
            shown.append(arg)
    return "helm " + " ".join(shown)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_major(
    major: int, running: localstack.Stack, rounds: int, library: ChartLibrary
) -> dict[str, tuple[float, str]]:
    access = ClusterAccess(running.kubeconfig)
    helm = RecordingClient.for_path(running.helm[major], home=Path(tempfile.mkdtemp()))
    chart = library.pull(TEMPO, "2.2.4").reference()
    older = library.pull(TEMPO, "2.2.3").reference()
    store, tester = ReleaseStore(access), ReleaseTester(helm, access)
    samples: dict[str, list[float]] = {}
    commands: dict[str, str] = {}

    def measure(name: str, action: Callable[[], object], command: bool = True) -> None:
        samples.setdefault(name, []).append(timed(action))
        if command:
            commands[name] = generic(helm.last)

    def run_round(namespace: str) -> None:
        target = KubeTarget(namespace=namespace, kubeconfig=running.kubeconfig)
        name = "bench-tempo"
        measure(
            "install",
            lambda: helm.install(
                name,
                older,
                target,
                values={"tempo": {"retention": "24h"}},
                timeout=TIMEOUT,
                labels={"gunj.io/desired": "0" * 48},
            ),
        )
        measure(
            "upgrade",
            lambda: helm.upgrade(
                name,
                chart,
                target,
                values={"tempo": {"retention": "48h"}},
                timeout=TIMEOUT,
                labels={"gunj.io/desired": "1" * 48},
            ),
        )
        measure("test", lambda: tester.run(name, target, TIMEOUT))
        commands["test"] = (
            f"helm test {name} --namespace <ns> --kubeconfig <kubeconfig> "
            "--timeout 120000ms (then the test pods are deleted)"
        )
        measure("status", lambda: helm.status(name, target))
        measure("metadata", lambda: helm.metadata(name, target))
        measure("history", lambda: helm.history(name, target))
        measure("get values", lambda: helm.get_values(name, target))
        measure("get manifest", lambda: helm.get_manifest(name, target))
        measure("list", lambda: helm.list_releases(target))
        measure(
            "template",
            lambda: helm.template(name, chart, namespace, values={"tempo": {"retention": "1h"}}),
        )
        measure("observe (API)", lambda: store.observe(name, namespace), command=False)
        measure("rollback", lambda: helm.rollback(name, 1, target, timeout=TIMEOUT))
        measure("uninstall", lambda: helm.uninstall(name, target, timeout=TIMEOUT))

    for _ in range(rounds):
        namespace = f"bench-{uuid.uuid4().hex[:8]}"
        access.ensure_namespace(namespace)
        try:
            run_round(namespace)
        finally:
            access.delete_namespace(namespace)
    commands["observe (API)"] = "(no Helm: one list of release Secrets through the API)"
    return {op: (median_ms(values), commands[op]) for op, values in samples.items()}


def bench_caches(running: localstack.Stack, rounds: int) -> None:
    settings = RepositorySettings.from_environment(running.environment())
    cold, warm, pull_cold, pull_warm = [], [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            library = ChartLibrary(settings, Path(folder), index_max_age=0)
            cold.append(timed(lambda: library.versions(TEMPO)))  # noqa: B023
            warm.append(timed(lambda: library.versions(TEMPO)))  # noqa: B023 - 304 revalidation
            pull_cold.append(timed(lambda: library.pull(TEMPO, "2.2.4")))  # noqa: B023
            pull_warm.append(timed(lambda: library.pull(TEMPO, "2.2.4")))  # noqa: B023
    print("\ncaches (HTTP repository on 127.0.0.1):")
    print(f"  index, first fetch        {median_ms(cold):8.1f} ms")
    print(
        f"  index, ETag revalidation  {median_ms(warm):8.1f} ms   "
        f"({median_ms(cold) / median_ms(warm):.1f}x faster)"
    )
    print(f"  chart pull, download      {median_ms(pull_cold):8.1f} ms")
    print(
        f"  chart pull, from cache    {median_ms(pull_warm):8.1f} ms   "
        f"({median_ms(pull_cold) / median_ms(pull_warm):.1f}x faster)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    running = localstack.up()
    library = ChartLibrary(
        RepositorySettings.from_environment(running.environment()), Path(tempfile.mkdtemp())
    )
    results = {major: bench_major(major, running, rounds, library) for major in (3, 4)}
    print(f"median of {rounds} rounds, local cluster (kwok), tempo chart 2.2.3 -> 2.2.4\n")
    print(f"{'operation':<14}{'Helm 3':>10}{'Helm 4':>10}{'4 / 3':>8}   command")
    for operation, (helm3, command) in results[3].items():
        helm4 = results[4][operation][0]
        print(f"{operation:<14}{helm3:>8.0f}ms{helm4:>8.0f}ms{helm4 / helm3:>8.2f}   {command}")
    for major in (3, 4):
        status, observe = results[major]["status"][0], results[major]["observe (API)"][0]
        print(
            f"\nHelm {major}: reading state from storage is {status / observe:.1f}x faster "
            f"than `helm status` ({observe:.0f} ms vs {status:.0f} ms)"
        )
    bench_caches(running, rounds)


if __name__ == "__main__":
    main()

"""gunj against Flux on the same cluster, charts and values: N platforms of the four components
(Prometheus, Loki, Tempo, Grafana) installed as Flux HelmReleases and as gunj specs through the
served functions, then one pass over all of them with nothing to change.

    PYTHONPATH=. .venv/bin/python bench/bench_flux.py [--platforms 5,25,50] [--helm 3,4]
        [--concurrency 8]

Its first step builds Flux's helm-controller and source-controller from their pinned Go modules
(cached in the tool cache by version; a cold build takes many minutes), then it starts or reuses
the local stack. Per N, each side gets N fresh namespaces, one platform in each, and is measured
from the moment it is asked until every release is ready:

- Flux: both controllers restarted, idle and ready; the HelmRepositories of the local chart
  repositories and 4N HelmReleases created; done when every HelmRelease is Ready. The no-op pass
  is a requested reconcile (``reconcile.fluxcd.io/requestedAt``) of every HelmRelease, done when
  each reports it handled and Ready.
- gunj: the reconcile and resync functions served (restarted) on topics of their own; N specs
  published to ``platform-specs``; done when every platform's final outcome arrived. The no-op
  pass is one tick on ``resync-ticks``, done when every platform's resync outcome arrived.

Each side's CPU seconds and peak memory are those of its processes (Flux's two controllers;
gunj's functions-framework processes, their workers and the Helm processes they run), from
``/proc``; API requests are the API server's own count over the side's time less its quiet rate
(the cluster's controllers and kwok, measured first) and less the benchmark's own requests (its
polls of the HelmReleases, the objects it creates and annotates). Prints one table per N with
both sides, their ratios and the exact configuration; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from kubernetes import client  # noqa: E402

from shared.engine.outcome import DONE  # noqa: E402
from shared.kube import ClusterAccess  # noqa: E402
from shared.localstack import flux, pins, tools  # noqa: E402
from shared.localstack import stack as localstack  # noqa: E402
from shared.localstack.benchfunctions import final_outcomes, serve_for_bench  # noqa: E402
from shared.localstack.meters import SessionMeter, quiet_rate, requests_served  # noqa: E402
from shared.values.plan import plan_platform  # noqa: E402
from shared.values.validation import load_platform  # noqa: E402

COMPONENTS: dict[str, dict[str, Any]] = {
    "prometheus": {
        "chartVersion": "29.27.0",
        "storage": {"enabled": False},
        "alertmanager": {"enabled": False},
        "nodeExporter": {"enabled": False},
        "kubeStateMetrics": {"enabled": False},
    },
    "loki": {"chartVersion": "18.11.0"},
    "tempo": {"chartVersion": "2.2.4"},
    "grafana": {
        "chartVersion": "12.11.1",
        "adminCredentials": {"existingSecret": "grafana-admin"},
    },
}
SOURCES_NAMESPACE = "flux-bench-sources"
LABEL = "bench.gunj.io/run"
POLL_SECONDS = 1.0
READY_TIMEOUT = 1800.0
CLEANUP_TIMEOUT = 600.0
MIB = 1024 * 1024


def spec(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"global": {"mode": "helm"}, **COMPONENTS},
    }


@dataclass
class Phase:
    """One side's figures for one phase (all ready, or the no-op pass)."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    requests: float = 0.0
    failures: list[str] = field(default_factory=list)


@dataclass
class Side:
    name: str
    configuration: str
    install: Phase
    noop: Phase
    notes: list[str] = field(default_factory=list)


class Measured:
    """Times a phase of one side: its processes' CPU and memory, and the API requests served
    meanwhile less the quiet rate and the benchmark's own."""

    def __init__(self, access: ClusterAccess, sessions: tuple[int, ...], quiet: float) -> None:
        self.access = access
        self.meter = SessionMeter(sessions)
        self.quiet = quiet
        self.own = 0
        self.tested = 0

    def __enter__(self) -> Measured:
        self.meter.start()
        self.before = requests_served(self.access)
        self.started = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        self.elapsed = time.monotonic() - self.started
        after = requests_served(self.access)
        self.meter.stop()
        # One request is the count's own.
        self.requests = after - self.before - 1 - self.own - self.quiet * self.elapsed

    def phase(self, failures: list[str]) -> Phase:
        return Phase(
            self.elapsed, self.meter.cpu_seconds, self.meter.peak_rss_bytes, self.requests, failures
        )


def prepare_namespaces(access: ClusterAccess, namespaces: list[str]) -> None:
    for namespace in namespaces:
        access.ensure_namespace(namespace)
        access.core.create_namespaced_secret(
            namespace,
            client.V1Secret(
                metadata=client.V1ObjectMeta(name="grafana-admin"),
                string_data={"admin-user": "admin", "admin-password": uuid.uuid4().hex},
            ),
        )


def delete_namespaces(access: ClusterAccess, namespaces: list[str]) -> None:
    """Delete the namespaces and wait until they are gone (what is left would skew the next
    run's counts)."""
    for namespace in namespaces:
        access.delete_namespace(namespace)
    deadline = time.monotonic() + CLEANUP_TIMEOUT
    while time.monotonic() < deadline:
        left = {n.metadata.name for n in access.core.list_namespace().items}
        if not left.intersection(namespaces):
            return
        time.sleep(2)
    print(f"  (namespaces still terminating after {CLEANUP_TIMEOUT:.0f}s)", file=sys.stderr)


# --- Flux ----------------------------------------------------------------------------------------


def flux_objects(
    running: localstack.Stack, platforms: list[tuple[str, str]], run: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The HelmRepositories and HelmReleases asking Flux for the platforms: one HelmRelease per
    component, with the chart, version and values gunj's plan of the same spec has."""
    mirrors = running.repository_mirrors()
    repositories: dict[str, dict[str, Any]] = {}
    releases = []
    for namespace, name in platforms:
        for plan in plan_platform(load_platform(yaml.safe_dump(spec(namespace, name)))):
            local = mirrors[plan.repository]
            # A name of the run's own: the last run's may still be going.
            repository_name = f"{local.rstrip('/').rsplit('/', 1)[-1]}-{run}"
            repositories[repository_name] = flux.helm_repository(
                repository_name, SOURCES_NAMESPACE, local
            )
            releases.append(
                flux.helm_release(plan, (SOURCES_NAMESPACE, repository_name), labels={LABEL: run})
            )
    return list(repositories.values()), releases


def list_releases(access: ClusterAccess, run: str) -> list[dict[str, Any]]:
    answer = access.custom.list_cluster_custom_object(
        flux.HELM_GROUP, flux.HELM_VERSION, "helmreleases", label_selector=f"{LABEL}={run}"
    )
    return list(answer["items"])


def is_true(release: dict[str, Any], kind: str) -> bool:
    found = flux.condition(release, kind)
    return found is not None and found.get("status") == "True"


def wait_releases(
    access: ClusterAccess,
    run: str,
    count: int,
    measured: Measured,
    done: Callable[[dict[str, Any]], bool],
) -> list[str]:
    """Poll until every HelmRelease is done or given up; the failures (counted as the
    benchmark's own requests)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        items = list_releases(access, run)
        measured.own += 1
        failed = [
            f"{r['metadata']['namespace']}/{r['metadata']['name']}: {message}"
            for r in items
            if not done(r) and (message := flux.given_up(r)) is not None
        ]
        finished = sum(1 for r in items if done(r))
        if finished + len(failed) >= count:
            measured.tested = sum(1 for r in items if is_true(r, "TestSuccess"))
            return failed
        if time.monotonic() > deadline:
            return [*failed, f"{count - finished - len(failed)} not ready in {READY_TIMEOUT:.0f}s"]
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class Bench:
    """What every run shares: the stack, its cluster, a scratch folder, the concurrency each
    side gets and the cluster's quiet rate."""

    running: localstack.Stack
    access: ClusterAccess
    work: Path
    concurrency: int
    quiet: float


def wait_repositories_gone(access: ClusterAccess, run: str) -> None:
    """source-controller removes its finalizer from a deleted HelmRepository: wait for that
    before it stops, so nothing is left stuck."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = access.custom.list_namespaced_custom_object(
            flux.SOURCE_GROUP, flux.SOURCE_VERSION, SOURCES_NAMESPACE, "helmrepositories"
        )
        if not any(item["metadata"]["name"].endswith(f"-{run}") for item in answer["items"]):
            return
        time.sleep(1)


def run_flux(bench: Bench, controllers: tools.FluxControllers, count: int) -> Side:
    running, access, work = bench.running, bench.access, bench.work
    concurrency, quiet = bench.concurrency, bench.quiet
    run = uuid.uuid4().hex[:6]
    platforms = [(f"bench-flux-{run}-{i}", f"f{run}{i}") for i in range(count)]
    namespaces = [namespace for namespace, _ in platforms]
    repositories, releases = flux_objects(running, platforms, run)
    access.ensure_namespace(SOURCES_NAMESPACE)
    running_flux = flux.start(
        controllers, running.kubeconfig, work / f"flux-{run}", concurrency, running.environment()
    )
    try:
        prepare_namespaces(access, namespaces)
        own_before = running_flux.requests_made()
        with Measured(access, running_flux.sessions(), quiet) as install:
            for repository in repositories:
                access.custom.create_namespaced_custom_object(
                    flux.SOURCE_GROUP,
                    flux.SOURCE_VERSION,
                    SOURCES_NAMESPACE,
                    "helmrepositories",
                    repository,
                )
            with ThreadPoolExecutor(8) as pool:
                list(
                    pool.map(
                        lambda r: access.custom.create_namespaced_custom_object(
                            flux.HELM_GROUP,
                            flux.HELM_VERSION,
                            r["metadata"]["namespace"],
                            "helmreleases",
                            r,
                        ),
                        releases,
                    )
                )
            install.own += len(repositories) + len(releases)
            install_failures = wait_releases(access, run, len(releases), install, flux.is_ready)
        own_install = running_flux.requests_made() - own_before
        token = datetime.now(UTC).isoformat()
        with Measured(access, running_flux.sessions(), quiet) as noop:
            with ThreadPoolExecutor(8) as pool:
                list(
                    pool.map(
                        lambda r: access.custom.patch_namespaced_custom_object(
                            flux.HELM_GROUP,
                            flux.HELM_VERSION,
                            r["metadata"]["namespace"],
                            "helmreleases",
                            r["metadata"]["name"],
                            {"metadata": {"annotations": {flux.REQUESTED_AT: token}}},
                        ),
                        releases,
                    )
                )
            noop.own += len(releases)
            noop_failures = wait_releases(
                access, run, len(releases), noop, lambda r: flux.is_ready(r, token)
            )
        own_noop = running_flux.requests_made() - own_before - own_install
    finally:
        # helm-controller uninstalls each release as its HelmRelease goes with the namespace.
        delete_namespaces(access, namespaces)
        for repository in repositories:
            access.custom.delete_namespaced_custom_object(
                flux.SOURCE_GROUP,
                flux.SOURCE_VERSION,
                SOURCES_NAMESPACE,
                "helmrepositories",
                repository["metadata"]["name"],
            )
        wait_repositories_gone(access, run)
        running_flux.stop()
    return Side(
        name="Flux",
        configuration=(
            f"helm-controller {pins.FLUX_HELM_CONTROLLER.version} (Helm "
            f"{flux.helm_inside(controllers.helm_controller)} inside), source-controller "
            f"{pins.FLUX_SOURCE_CONTROLLER.version}, "
            f"--concurrent={concurrency} each, no leader election; HelmReleases with tests, "
            "drift detection enabled, 3 retries, timeout 5m"
        ),
        install=install.phase(install_failures),
        noop=noop.phase(noop_failures),
        notes=[
            f"Flux's own count of its API requests: {own_install:.0f} to ready, "
            f"{own_noop:.0f} for the no-op pass",
            f"Helm tests passed for {install.tested} of {len(releases)} HelmReleases",
        ],
    )


# --- gunj ----------------------------------------------------------------------------------------


def run_gunj(bench: Bench, count: int, major: int) -> Side:
    running, access, work = bench.running, bench.access, bench.work
    concurrency, quiet = bench.concurrency, bench.quiet
    run = uuid.uuid4().hex[:6]
    platforms = [(f"bench-gunj{major}-{run}-{i}", f"g{run}{i}") for i in range(count)]
    namespaces = [namespace for namespace, _ in platforms]
    served = serve_for_bench(
        running,
        work / f"gunj-{run}",
        extra_env={"GUNJ_HELM_BINARY": str(running.helm[major]), "THREADS": str(concurrency)},
    )
    texts = [yaml.safe_dump(spec(namespace, name)) for namespace, name in platforms]
    try:
        prepare_namespaces(access, namespaces)
        with Measured(access, served.sessions(), quiet) as install:
            ids = [served.publish_spec(text) for text in texts]
            wanted = set(ids)

            def applied(received: list[dict[str, Any]]) -> dict[str, Any]:
                return final_outcomes(
                    received,
                    lambda o: o.get("message_id") if o.get("message_id") in wanted else None,
                )

            served.wait_for(lambda received: len(applied(received)) >= count, READY_TIMEOUT)
        install_failures = failures_of(applied(served.received), count)
        before_resync = len(served.received)
        with Measured(access, served.sessions(), quiet) as noop:
            served.tick_resync(namespaces)

            def resynced(received: list[dict[str, Any]]) -> dict[str, Any]:
                return final_outcomes(
                    received[before_resync:],
                    lambda o: str(o.get("platform")) if o.get("source") == "resync" else None,
                )

            served.wait_for(lambda received: len(resynced(received)) >= count, READY_TIMEOUT)
        noop_failures = failures_of(resynced(served.received), count)
        noop_results = sorted({str(o.get("result")) for o in resynced(served.received).values()})
    finally:
        deletes = {served.publish_spec(text, delete=True) for text in texts}
        served.wait_for(
            lambda received: (
                len(
                    final_outcomes(
                        received,
                        lambda o: o.get("message_id") if o.get("message_id") in deletes else None,
                    )
                )
                >= count
            ),
            CLEANUP_TIMEOUT,
        )
        served.stop()
        delete_namespaces(access, namespaces)
    return Side(
        name=f"gunj, Helm {major}",
        configuration=(
            f"Helm {pins.HELM_PINS[major].version}; reconcile and resync functions, one "
            f"functions-framework instance each, {concurrency} threads (gunicorn THREADS), "
            "helm mode, gunj's defaults (tests, drift correction, 3 retries, timeout 5m)"
        ),
        install=install.phase(install_failures),
        noop=noop.phase(noop_failures),
        notes=[
            f"component actions to ready: {actions_of(applied(served.received))}",
            f"resync outcomes: {', '.join(noop_results) or 'none'}; component actions: "
            f"{actions_of(resynced(served.received))}",
        ],
    )


def actions_of(outcomes: dict[str, Any]) -> str:
    """How many components took each sequence of actions, as the outcomes report them."""
    counted = Counter(
        "+".join(component.get("actions", ())) or "none"
        for outcome in outcomes.values()
        for component in outcome.get("components", ())
    )
    return ", ".join(f"{actions} x{n}" for actions, n in sorted(counted.items())) or "none"


def failures_of(outcomes: dict[str, Any], count: int) -> list[str]:
    failed = [
        f"{o.get('platform')}: {o.get('result')} {str(o.get('message', ''))[:200]}"
        for o in outcomes.values()
        if o.get("result") not in DONE
    ]
    if len(outcomes) < count:
        failed.append(f"{count - len(outcomes)} without a final outcome")
    return failed


# --- the table -----------------------------------------------------------------------------------

ROWS: list[tuple[str, str, Callable[[Phase], float], str]] = [
    ("install", "time until all ready (s)", lambda p: p.seconds, "{:.1f}"),
    ("install", "CPU seconds", lambda p: p.cpu_seconds, "{:.1f}"),
    ("install", "peak memory (MiB)", lambda p: p.peak_rss_bytes / MIB, "{:.0f}"),
    ("install", "API requests", lambda p: p.requests, "{:.0f}"),
    ("noop", "no-op pass: time (s)", lambda p: p.seconds, "{:.1f}"),
    ("noop", "no-op pass: CPU seconds", lambda p: p.cpu_seconds, "{:.1f}"),
    ("noop", "no-op pass: peak memory (MiB)", lambda p: p.peak_rss_bytes / MIB, "{:.0f}"),
    ("noop", "no-op pass: API requests", lambda p: p.requests, "{:.0f}"),
]


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base > 0 else "-"


def print_table(count: int, sides: list[Side]) -> None:
    flux_side, gunj_sides = sides[0], sides[1:]
    print(f"\n{count} platforms x 4 components = {4 * count} releases")
    header = f"  {'':<34}{flux_side.name:>10}"
    for side in gunj_sides:
        header += f"{side.name:>14}{'/ Flux':>8}"
    print(header)
    for phase_name, label, value, shape in ROWS:
        flux_value = value(getattr(flux_side, phase_name))
        row = f"  {label:<34}{shape.format(flux_value):>10}"
        for side in gunj_sides:
            mine = value(getattr(side, phase_name))
            row += f"{shape.format(mine):>14}{ratio(mine, flux_value):>8}"
        print(row)
    for side in sides:
        print(f"  {side.name}: {side.configuration}")
        for note in side.notes:
            print(f"    {note}")
        for phase_name in ("install", "noop"):
            for failure in getattr(side, phase_name).failures[:5]:
                print(f"    {phase_name} failure: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--platforms", default="5,25,50", help="comma-separated counts")
    parser.add_argument("--helm", default="3,4", help="gunj's Helm majors, comma-separated")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="Flux's --concurrent and gunj's threads per function instance (default 8: "
        "functions-framework's own on 2 CPUs)",
    )
    arguments = parser.parse_args()
    counts = [int(c) for c in arguments.platforms.split(",")]
    majors = [int(m) for m in arguments.helm.split(",")]
    print("building Flux's controllers (cached after the first time)", file=sys.stderr)
    controllers = tools.ensure_flux_controllers()
    running = localstack.up()
    access = ClusterAccess(running.kubeconfig)
    flux.apply_crds(running.kubectl, running.kubeconfig, controllers.crds)
    access.ensure_namespace(flux.RUNTIME_NAMESPACE)
    print("measuring the cluster's quiet rate (10 s)", file=sys.stderr)
    quiet = quiet_rate(access)
    print(f"local stack: {running.kubeconfig}; quiet rate {quiet:.1f} requests/s")
    with tempfile.TemporaryDirectory(prefix="bench-flux-") as folder:
        bench = Bench(running, access, Path(folder), arguments.concurrency, quiet)
        for count in counts:
            print(f"{count} platforms: Flux", file=sys.stderr)
            sides = [run_flux(bench, controllers, count)]
            for major in majors:
                print(f"{count} platforms: gunj with Helm {major}", file=sys.stderr)
                sides.append(run_gunj(bench, count, major))
            print_table(count, sides)
            sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Median time of a reconcile through gunj's engine against plain Helm doing the same work, per
Helm major, on a four-component platform (Prometheus, Loki, Tempo, Grafana):

(a) a no-op: the engine warm (one Reconciler reused in one process, as a warm Cloud Function
    instance runs it) and cold (a fresh ``gunj apply SPEC --cluster local`` process), against
    ``helm upgrade --install`` of the same four releases;
(b) one component changed (Prometheus' retention), against a plain ``helm upgrade`` of it;
(c) a fresh install of the four, against four sequential ``helm install --wait``;
(d) the same platform in native mode (``global.mode: native``; no Helm process): install,
    no-op and one change, against the engine's own Helm 3 figures;
(e) one Deployment deleted by hand (Prometheus' server): found by the live check and put back
    (with its verification), against a plain ``helm upgrade`` of that release with the same
    values, which recreates it too.

Every apply of the engine counts the API requests it makes (the no-op's are printed).

    .venv/bin/python bench/bench_reconcile.py [--rounds 5]

Needs the local stack (started or reused; its cluster is registered as ``local``). Plain Helm
gets the chart version the engine resolved (read back with ``helm get metadata``) from the same
local repository, and the same complete values in a file; both sides' stored values are compared
once per major. Every round uses two fresh namespaces (the engine's platform, plain Helm's
releases), deleted at its end. The engine's Helm processes are recorded, and the time of its
verification is taken apart by timing its action runners in this process. An apply that does
not end "ready" with the expected actions stops the run, showing its outcome. Prints figures and
ratios; asserts nothing about time.

Where the engine's time goes is printed per phase for (b) and (c): the seconds spent in each part
(the chart, the collision render, Helm's own process, observing releases, the live checks, the
verification's wait for the workloads, gunj's probe, the chart's Helm tests, status writes and
Events), each timed in this process by wrapping the function that does it. In (c) the components
run at the same time, so the phases there add up to more than the apply took.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from string import Template
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import client

from shared.cli.local import register
from shared.engine.action import ActionResult
from shared.engine.actions import RUNNERS, Step
from shared.engine.actions import change as engine_change
from shared.engine.actions import verify as engine_verify
from shared.engine.context import EngineContext
from shared.engine.live.check import LiveChecker
from shared.engine.reconciler import Reconciler
from shared.engine.record import Recorder
from shared.engine.request import Request
from shared.engine.settings import EngineSettings
from shared.helm.charts import ChartLibrary
from shared.helm.client import HelmClient
from shared.helm.release_tests import ReleaseTester
from shared.helm.releases import ReleaseStore
from shared.helm.repositories import RepositorySettings
from shared.kube import ClusterAccess
from shared.kube.client import TypedApiClient
from shared.kube.errors import ApiError
from shared.kube.events import EventRecorder
from shared.localstack import stack as localstack
from shared.values.plan import plan_platform
from shared.values.spec import ObservabilityPlatform
from shared.values.validation import load_platform

GUNJ = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "gunj"
COMPONENTS = ("prometheus", "loki", "tempo", "grafana")
RETENTION, CHANGED_RETENTION = "2d", "3d"
SPEC = Template("""\
apiVersion: observability.io/v1beta1
kind: ObservabilityPlatform
metadata:
  name: bench
  namespace: $namespace
spec:
  global: {mode: $mode}
  prometheus:
    retention: $retention
    scrapeInterval: 60s
    resources:
      requests: {cpu: 50m, memory: 128Mi}
    storage: {enabled: true, size: 1Gi}
    alertmanager: {enabled: false}
    nodeExporter: {enabled: false}
    kubeStateMetrics: {enabled: false}
    pushgateway: {enabled: false}
  loki:
    deploymentMode: Monolithic
    replicas: 1
    retention: 24h
    storage: {type: filesystem, size: 1Gi}
    resources:
      requests: {cpu: 50m, memory: 128Mi}
  tempo:
    retention: 24h
    storage: {backend: local, size: 1Gi}
    resources:
      requests: {cpu: 50m, memory: 128Mi}
  grafana:
    adminCredentials: {existingSecret: grafana-admin}
    persistence: {enabled: false}
    resources:
      requests: {cpu: 50m, memory: 128Mi}
""")

CHANGES = ("install", "upgrade")
Runner = Callable[[EngineContext, Step], ActionResult]
Actions = dict[str, tuple[str, ...]]
NOTHING: Actions = dict.fromkeys(COMPONENTS, ())


class EngineMisbehaved(RuntimeError):
    """An apply did not end "ready" with the expected actions: reported as it was."""


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def check(document: dict[str, Any], what: str, expected: Actions, result: str = "ready") -> None:
    """The outcome must be ``result``, with exactly the expected actions per component."""
    done = {c["component"]: tuple(c["actions"]) for c in document.get("components", [])}
    if document.get("result") != result or done != expected:
        shown = json.dumps(document, indent=2, default=str)
        raise EngineMisbehaved(f"{what}: expected ready with actions {expected}, got\n{shown}")


# --- the engine's side ---------------------------------------------------------------------------


@dataclass
class RecordingClient(HelmClient):
    """The engine's Helm client, remembering every command line it runs and its seconds."""

    commands: list[tuple[list[str], float]] = field(default_factory=list)

    def run(self, args: Sequence[str], **kwargs: Any) -> str:
        started = time.perf_counter()
        try:
            return super().run(args, **kwargs)
        finally:
            self.commands.append((list(args), time.perf_counter() - started))


@contextmanager
def action_clock() -> Iterator[dict[str, float]]:
    """Seconds spent in each of the engine's actions (install, upgrade, verify, ...) while
    inside: its runners are wrapped in this process, and restored on the way out."""
    spent: dict[str, float] = {}
    originals = dict(RUNNERS)

    def timing(name: str, runner: Runner) -> Runner:
        def run(ctx: EngineContext, step: Step) -> ActionResult:
            started = time.perf_counter()
            try:
                return runner(ctx, step)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

        return run

    RUNNERS.update({action: timing(action.value, runner) for action, runner in originals.items()})
    try:
        yield spent
    finally:
        RUNNERS.update(originals)


PHASES: tuple[tuple[str, object, str], ...] = (
    ("chart from gunj's cache", ChartLibrary, "pull"),
    ("collision check (helm template)", engine_change, "collision_problem"),
    ("observe releases (API)", ReleaseStore, "observe"),
    ("live checks (API)", LiveChecker, "check"),
    ("verify: wait for the workloads", engine_verify, "wait_ready"),
    ("verify: gunj's probe pod", engine_verify, "run_probe"),
    ("verify: the chart's Helm tests", ReleaseTester, "run"),
    ("status writes", Recorder, "persist"),
    ("Events", EventRecorder, "emit"),
)
"""Each phase of an apply: the function that does it, timed wherever it is called from."""
HELM_PHASE = "helm install/upgrade --wait (process)"


@contextmanager
def phase_clock() -> Iterator[dict[str, float]]:
    """Seconds spent in each of :data:`PHASES` while inside, from any thread (the functions are
    wrapped where the engine looks them up, and restored on the way out)."""
    spent: dict[str, float] = {}
    lock = threading.Lock()
    originals = [(owner, name, getattr(owner, name)) for _, owner, name in PHASES]

    def timing(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - started

        return timed

    for (phase, owner, name), (_, _, function) in zip(PHASES, originals, strict=True):
        setattr(owner, name, timing(phase, function))
    try:
        yield spent
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)


@contextmanager
def counted_requests() -> Iterator[list[int]]:
    """The API requests made in this process while inside (every one goes through the API
    client's call_api, from any thread)."""
    made = [0]
    lock = threading.Lock()
    original = TypedApiClient.call_api

    def counting(client: TypedApiClient, *args: Any, **kwargs: Any) -> Any:
        with lock:
            made[0] += 1
        return original(client, *args, **kwargs)

    TypedApiClient.call_api = counting  # type: ignore[method-assign]
    try:
        yield made
    finally:
        TypedApiClient.call_api = original  # type: ignore[method-assign]


def generic(args: Sequence[str], names: dict[str, str]) -> str:
    """An engine's command line with the parts that vary per run named."""
    shown: list[str] = []
    for arg in args:
        if shown and shown[-1] == "--timeout" and args[0] == "test":
            shown.append("<what is left of the verification budget>")
        elif shown and shown[-1] == "--labels":
            shown.append("<platform,component,digest,deadline>")
        elif shown and shown[-1] == "--description":
            shown.append('"<what and why>"')
        elif arg.endswith(".tgz"):
            shown.append("<cached chart>.tgz")
        elif "gunj-values-" in arg:
            shown.append("<values>.yaml")
        else:
            shown.append(names.get(arg, arg))
    return "helm " + " ".join(shown)


# --- plain Helm's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlainRelease:
    name: str
    chart: str
    repository: str
    version: str
    values: Path


@dataclass
class PlainHelm:
    """Helm as a person runs it: homes of its own, the chart straight from the repository."""

    binary: Path
    kubeconfig: Path
    home: Path
    shown: dict[str, list[str]] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key != "KUBECONFIG" and not key.startswith("HELM_")
        }
        for part in ("cache", "config", "data"):
            env[f"HELM_{part.upper()}_HOME"] = str(self.home / part)
        return env

    def run(
        self, scenario: str, verb: Sequence[str], releases: Sequence[PlainRelease], ns: str
    ) -> float:
        """Run the command for each release in turn: the seconds they took together."""
        shown = []
        started = time.perf_counter()
        for release in releases:
            head = [*verb, release.name, release.chart, "--repo", release.repository]
            head += ["--version", release.version]
            tail = ["--wait", "--namespace", ns, "--kubeconfig", str(self.kubeconfig)]
            done = subprocess.run(
                [str(self.binary), *head, "-f", str(release.values), *tail],
                env=self.environment(),
                check=False,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"plain helm {' '.join(head)} failed: {done.stderr.strip()}")
            shown.append(
                " ".join(["helm", *head, "-f", f"<{release.name} values>.yaml", "--wait"])
                + " --namespace <ns> --kubeconfig <kubeconfig>"
            )
        elapsed = time.perf_counter() - started
        self.shown[scenario] = shown
        return elapsed


def write_values(platform: ObservabilityPlatform, folder: Path) -> dict[str, Path]:
    """Each component's complete values as the engine builds them (the spec has no
    valuesFrom), one file per component."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for plan in plan_platform(platform):
        path = folder / f"{plan.release}.yaml"
        path.write_text(yaml.safe_dump(dict(plan.complete_values([])), sort_keys=True))
        files[plan.component] = path
    return files


# --- the cluster ---------------------------------------------------------------------------------


def helm_json(binary: Path, kubeconfig: Path, args: Sequence[str]) -> Any:
    output = subprocess.run(
        [str(binary), *args, "--kubeconfig", str(kubeconfig), "--output", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def prepare_namespace(access: ClusterAccess, namespace: str) -> None:
    """The namespace, and the Secret the spec's Grafana takes its admin credentials from."""
    access.ensure_namespace(namespace)
    secret = client.V1Secret(
        metadata=client.V1ObjectMeta(name="grafana-admin"),
        string_data={"admin-user": "admin", "admin-password": uuid.uuid4().hex},
    )
    access.core.create_namespaced_secret(namespace, secret)


def delete_namespaces(access: ClusterAccess, namespaces: Sequence[str]) -> None:
    """Delete them and wait until they are gone (up to 3 minutes), so the next round does not
    share the machine with their clean-up."""
    for namespace in namespaces:
        access.delete_namespace(namespace)
    deadline = time.monotonic() + 180
    for namespace in namespaces:
        while time.monotonic() < deadline:
            try:
                access.core.read_namespace(namespace)
            except ApiError as error:
                if error.status == 404:
                    break
                raise
            time.sleep(0.5)


# --- one Helm major ------------------------------------------------------------------------------


@dataclass
class Results:
    samples: dict[str, list[float]] = field(default_factory=dict)
    engine_commands: dict[str, list[str]] = field(default_factory=dict)
    plain_commands: dict[str, list[str]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    same_values: bool = False
    requests: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)

    def ms(self, name: str) -> float:
        return median_ms(self.samples[name])


class MajorBench:
    def __init__(self, major: int, running: localstack.Stack, work: Path) -> None:
        self.major = major
        self.running = running
        self.helm = running.helm[major]
        self.access = ClusterAccess(running.kubeconfig)
        self.work = work
        cache = self.work / "cache"
        self.repositories = RepositorySettings.from_environment(running.environment())
        self.reconciler = Reconciler(
            "local",
            self.access,
            EngineSettings(helm_binary=self.helm, cache=cache),
            repositories=self.repositories,
        )
        current = self.reconciler.helm
        self.engine_helm = RecordingClient(
            **{f.name: getattr(current, f.name) for f in fields(current)}
        )
        self.reconciler.helm = self.engine_helm
        self.plain = PlainHelm(self.helm, running.kubeconfig, self.work / "helm")
        # A fresh `gunj apply` process: the same cluster, Helm binary and chart cache.
        self.cli_env = {
            **os.environ,
            **running.environment(),
            "GUNJ_HELM_BINARY": str(self.helm),
            "GUNJ_CACHE_DIR": str(cache),
        }
        self.results = Results()

    def engine(
        self,
        scenario: str,
        platform: ObservabilityPlatform,
        expected: Actions,
        result: str = "ready",
    ) -> None:
        """Apply through the reused Reconciler, timing the whole and its actions, and counting
        its API requests."""
        self.engine_helm.commands.clear()
        with action_clock() as spent, counted_requests() as requests, phase_clock() as phases:
            started = time.perf_counter()
            outcome = self.reconciler.apply(platform, Request(source="bench"))
            elapsed = time.perf_counter() - started
        check(outcome.to_json(), f"Helm {self.major}, {scenario}", expected, result)
        self.results.add(scenario, elapsed)
        for phase, _, _ in PHASES:
            self.results.add(f"{scenario}: {phase}", phases.get(phase, 0.0))
        self.results.requests[scenario] = requests[0]
        names = {
            str(self.running.kubeconfig): "<kubeconfig>",
            platform.metadata.namespace: "<ns>",
        }
        self.results.engine_commands[scenario] = [
            generic(args, names) for args, _ in self.engine_helm.commands
        ]
        self.results.add(f"{scenario}, no verification", elapsed - spent.get("verify", 0.0))
        changes = [seconds for args, seconds in self.engine_helm.commands if args[0] in CHANGES]
        self.results.add(f"{scenario}, Helm changes", sum(changes))
        self.results.add(f"{scenario}: {HELM_PHASE}", sum(changes))

    def cold(self, scenario: str, spec: Path, env: dict[str, str]) -> None:
        """``gunj apply`` in a fresh process, timed from start to exit."""
        command = [str(GUNJ), "apply", str(spec), "--cluster", "local", "--output", "json"]
        started = time.perf_counter()
        process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        try:
            document = json.loads(process.stdout)
        except ValueError:
            document = {"stdout": process.stdout, "stderr": process.stderr}
        if process.returncode != 0:
            document["exit code"] = process.returncode
        check(document, f"Helm {self.major}, gunj apply {spec.name} --cluster local", NOTHING)
        self.results.add(scenario, elapsed)

    def plain_releases(
        self, platform: ObservabilityPlatform, values: dict[str, Path]
    ) -> list[PlainRelease]:
        return [
            PlainRelease(
                plan.release,
                plan.chart,
                self.repositories.locate(plan.repository),
                self.results.versions[plan.component],
                values[plan.component],
            )
            for plan in plan_platform(platform)
        ]

    def resolved_versions(self, platform: ObservabilityPlatform) -> None:
        """The chart versions the engine installed, as Helm stored them."""
        for plan in plan_platform(platform):
            metadata = helm_json(
                self.helm,
                self.running.kubeconfig,
                ["get", "metadata", plan.release, "--namespace", plan.namespace],
            )
            self.results.versions[plan.component] = str(metadata["version"])

    def same_values(self, sides: Sequence[tuple[str, Sequence[PlainRelease]]]) -> bool:
        """Whether each release holds the very values of its file, on both sides (each side's
        values name its own namespace)."""
        return all(
            helm_json(
                self.helm,
                self.running.kubeconfig,
                ["get", "values", release.name, "--namespace", namespace],
            )
            == yaml.safe_load(release.values.read_text())
            for namespace, releases in sides
            for release in releases
        )

    def round(self, index: int) -> None:
        suffix = uuid.uuid4().hex[:6]
        ns_engine, ns_plain = f"bench-gunj-{suffix}", f"bench-helm-{suffix}"
        folder = self.work / suffix
        folder.mkdir(parents=True)
        spec = folder / "platform.yaml"
        spec.write_text(SPEC.substitute(namespace=ns_engine, retention=RETENTION, mode="helm"))
        platform = load_platform(spec.read_text())
        changed = load_platform(
            SPEC.substitute(namespace=ns_engine, retention=CHANGED_RETENTION, mode="helm")
        )
        # Plain Helm's releases live in a namespace of their own, which their values name.
        plain, plain_changed = (
            load_platform(SPEC.substitute(namespace=ns_plain, retention=days, mode="helm"))
            for days in (RETENTION, CHANGED_RETENTION)
        )
        values = write_values(plain, folder / "values")
        for namespace in (ns_engine, ns_plain):
            prepare_namespace(self.access, namespace)
        try:
            # (c) a fresh install of the four
            self.engine("install", platform, dict.fromkeys(COMPONENTS, ("install", "verify")))
            self.resolved_versions(platform)
            releases = self.plain_releases(platform, values)
            self.results.add(
                "plain install", self.plain.run("install", ["install"], releases, ns_plain)
            )
            if index == 0:
                ours = self.plain_releases(platform, write_values(platform, folder / "ours"))
                sides = [(ns_engine, ours), (ns_plain, releases)]
                self.results.same_values = self.same_values(sides)

            # (a) a no-op
            self.engine("no-op", platform, NOTHING)
            self.engine("no-op again", platform, NOTHING)
            self.cold("no-op cold", spec, self.cli_env)
            empty = {**self.cli_env, "GUNJ_CACHE_DIR": str(folder / "empty-cache")}
            self.cold("no-op cold, empty cache", spec, empty)
            upgrades = self.plain.run("no-op", ["upgrade", "--install"], releases, ns_plain)
            self.results.add("plain no-op", upgrades)

            # (b) one component changed
            self.engine("change", changed, {**NOTHING, "prometheus": ("upgrade", "verify")})
            changed_values = write_values(plain_changed, folder / "changed")
            prometheus = [
                r
                for r in self.plain_releases(plain_changed, changed_values)
                if r.chart == "prometheus"
            ]
            self.results.add(
                "plain change", self.plain.run("change", ["upgrade"], prometheus, ns_plain)
            )
            # (e) one Deployment deleted by hand
            self.delete_server(ns_engine)
            self.engine(
                "drift", changed, {**NOTHING, "prometheus": ("correct",)}, result="corrected"
            )
            self.delete_server(ns_plain)
            self.results.add(
                "plain drift", self.plain.run("drift", ["upgrade"], prometheus, ns_plain)
            )
            if self.major == 3:  # native mode runs no Helm: once is enough
                self.native_round(f"bench-native-{suffix}")
        finally:
            delete_namespaces(self.access, (ns_engine, ns_plain, f"bench-native-{suffix}"))

    def delete_server(self, namespace: str) -> None:
        """Delete Prometheus' server Deployment, as `kubectl delete` does."""
        self.access.apps.delete_namespaced_deployment("bench-prometheus-server", namespace)

    def native_round(self, namespace: str) -> None:
        """(d) install, no-op and one change of the same platform in native mode."""
        platform, changed = (
            load_platform(SPEC.substitute(namespace=namespace, retention=days, mode="native"))
            for days in (RETENTION, CHANGED_RETENTION)
        )
        prepare_namespace(self.access, namespace)
        self.engine("native install", platform, dict.fromkeys(COMPONENTS, ("install", "verify")))
        self.engine("native no-op", platform, NOTHING)
        self.engine("native no-op again", platform, NOTHING)
        self.engine("native change", changed, {**NOTHING, "prometheus": ("upgrade", "verify")})

    def run(self, rounds: int) -> Results:
        for index in range(rounds):
            print(f"Helm {self.major}: round {index + 1} of {rounds}", file=sys.stderr, flush=True)
            self.round(index)
        self.results.plain_commands = self.plain.shown
        return self.results


# --- the table -----------------------------------------------------------------------------------


def row(label: str, figures: Sequence[str]) -> None:
    print(f"  {label:<58}" + "".join(f"{figure:>12}" for figure in figures))


def print_table(results: dict[int, Results], rounds: int) -> None:
    majors = sorted(results)
    first = results[majors[0]]

    def ms(name: str) -> list[str]:
        return [f"{results[m].ms(name):.0f} ms" for m in majors]

    def ratio(slow: str, fast: str) -> list[str]:
        return [f"{results[m].ms(slow) / results[m].ms(fast):.1f}x" for m in majors]

    def overhead(engine: str, plain: str) -> list[str]:
        return [
            f"{(results[m].ms(engine) / results[m].ms(plain) - 1) * 100:+.0f} %" for m in majors
        ]

    charts = ", ".join(f"{c} {v}" for c, v in first.versions.items())
    same = ", ".join(f"Helm {m}: {'yes' if results[m].same_values else 'NO'}" for m in majors)
    print(f"\nmedian of {rounds} rounds, local cluster (kwok); charts: {charts}")
    print(f"plain Helm's releases store the very values the engine's do: {same}\n")
    row("", [f"Helm {m}" for m in majors])
    print("(a) no-op: the four releases are as declared")
    row("gunj, warm: the same Reconciler, first apply after install", ms("no-op"))
    row("gunj, warm: the same Reconciler, the apply after that", ms("no-op again"))
    row("gunj, cold: a fresh `gunj apply` process", ms("no-op cold"))
    row("gunj, cold, and an empty cache (as a new instance)", ms("no-op cold, empty cache"))
    row("plain: 4 x helm upgrade --install --wait", ms("plain no-op"))
    row("plain / gunj warm, first (goal: at least 50x)", ratio("plain no-op", "no-op"))
    row("plain / gunj warm, after that", ratio("plain no-op", "no-op again"))
    row("plain / gunj cold", ratio("plain no-op", "no-op cold"))
    row("plain / gunj cold, empty cache", ratio("plain no-op", "no-op cold, empty cache"))
    row(
        "gunj, warm: API requests of the apply after that",
        [str(results[m].requests["no-op again"]) for m in majors],
    )
    print(f"(b) one component changed: prometheus retention {RETENTION} -> {CHANGED_RETENTION}")
    row("gunj: upgrade, then verification", ms("change"))
    row("gunj: the same without its verification", ms("change, no verification"))
    row("  of which its helm upgrade process", ms("change, Helm changes"))
    row("plain: helm upgrade --wait", ms("plain change"))
    row(
        "gunj over plain, with verification (goal: at most +10 %)",
        overhead("change", "plain change"),
    )
    row(
        "gunj over plain, without verification", overhead("change, no verification", "plain change")
    )
    print("(c) fresh install of the four")
    row("gunj: 4 x (install, then verification)", ms("install"))
    row("gunj: the same without its verification", ms("install, no verification"))
    row("  of which its 4 helm install processes", ms("install, Helm changes"))
    row("plain: 4 x helm install --wait", ms("plain install"))
    row("gunj / plain, with verification", ratio("install", "plain install"))
    row("gunj / plain, without verification", ratio("install, no verification", "plain install"))
    print_phases(results, "change", "(b)'s apply with verification, per phase")
    print_phases(
        results, "install", "(c)'s apply with verification, per phase (summed over threads)"
    )
    if 3 in results:
        print_native(results[3])
    print_drift(results)


def print_phases(results: dict[int, Results], scenario: str, title: str) -> None:
    """Where the engine's time went in ``scenario``: the median of each phase, and the rest."""
    majors = sorted(results)
    print(f"{title}")
    row("", [f"Helm {m}" for m in majors])
    for phase in [HELM_PHASE, *(p for p, _, _ in PHASES)]:
        row(f"  {phase}", [f"{results[m].ms(f'{scenario}: {phase}'):.0f} ms" for m in majors])
    row("  the whole apply", [f"{results[m].ms(scenario):.0f} ms" for m in majors])


def print_drift(results: dict[int, Results]) -> None:
    majors = sorted(results)
    print("(e) one Deployment deleted by hand: prometheus' server")
    row("", [f"Helm {m}" for m in majors])
    row(
        "gunj: found by the live check, put back, then verification",
        [f"{results[m].ms('drift'):.0f} ms" for m in majors],
    )
    row("  its API requests", [str(results[m].requests["drift"]) for m in majors])
    row(
        "plain: helm upgrade --wait, the same values",
        [f"{results[m].ms('plain drift'):.0f} ms" for m in majors],
    )
    row(
        "gunj / plain",
        [f"{results[m].ms('drift') / results[m].ms('plain drift'):.2f}x" for m in majors],
    )


def print_native(native: Results) -> None:

    def one(name: str) -> list[str]:
        return [f"{native.ms(name):.0f} ms"]

    def versus(name: str, helm: str) -> list[str]:
        return [f"{native.ms(name) / native.ms(helm):.2f}x"]

    print("(d) native mode (no Helm process): the same platform, gunj warm")
    row("", ["native"])
    row("install of the four, then verification", one("native install"))
    row("  without its verification", one("native install, no verification"))
    row(
        "  / gunj with Helm 3, without verification",
        versus("native install, no verification", "install, no verification"),
    )
    row("no-op, first apply after install", one("native no-op"))
    row("no-op, the apply after that", one("native no-op again"))
    row("one component changed, then verification", one("native change"))
    row("  without its verification", one("native change, no verification"))
    row(
        "  / gunj with Helm 3, without verification",
        versus("native change, no verification", "change, no verification"),
    )


def print_sides(results: dict[int, Results]) -> None:
    majors = sorted(results)
    helm_runs = ", ".join(
        f"Helm {m}: {sum(len(results[m].engine_commands[s]) for s in ('no-op', 'no-op again'))}"
        for m in majors
    )
    print(
        f"""
what each side does
  gunj, every apply: ensures the CRD, takes and releases the platform's Lease, reads the
    ObservabilityPlatform, lists the namespace's release Secrets once (API), builds each
    component's values in Python and compares digests; writes status only when it changes
  gunj, no-op: Helm processes run: {helm_runs}
  gunj, install or upgrade: the chart from gunj's cache (pulled once per version), Helm from
    the archive with --wait; then verification: workloads Ready (API), gunj's probe pod, the
    chart's Helm tests (test pods deleted after); status and an Event per action. "Without its
    verification" is the whole apply less the time of its verify actions (timed in process);
    "of which" rows are the engine's own helm install/upgrade processes
  gunj, cold: the whole `gunj apply` process, start to exit (Python start, imports, the
    cluster registry, the apply); with the warm Reconciler's chart cache, or an empty one
  plain Helm: --repo fetches the repository index and the chart on every run; --wait is all it
    checks (Helm 3 polls; Helm 4's bare --wait is the watcher strategy, like the engine's
    --wait=watcher); upgrade --install makes a new revision even when nothing changed"""
    )


def print_commands(results: dict[int, Results]) -> None:
    majors = sorted(results)
    print("\ncommands compared")
    titles = {
        "no-op": "(a) no-op",
        "change": "(b) one component changed",
        "install": "(c) install",
        "drift": "(e) one Deployment deleted by hand",
    }
    for scenario, title in titles.items():
        print(f"{title}")
        if scenario == "no-op":
            print("  gunj, warm: Reconciler.apply(platform, Request(...)) in this process")
            print(
                "  gunj, cold: GUNJ_HELM_BINARY=<helm> GUNJ_CACHE_DIR=<cache> "
                ".venv/bin/gunj apply <spec> --cluster local --output json"
            )
        shown: list[str] = []
        for major in majors:
            commands = results[major].engine_commands[scenario]
            lines = [c for c in commands if c not in shown] if shown else commands
            if not commands:
                print(f"  gunj (Helm {major}): no Helm process")
            elif lines:
                label = f"gunj (Helm {major})" if not shown else f"gunj (Helm {major}, differing)"
                print(f"  {label}:")
                for line in lines:
                    print(f"    {line}")
            shown = commands
        print("  plain (both majors):")
        for line in results[majors[0]].plain_commands[scenario]:
            print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    running = localstack.up()
    register(running)
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as work:
        results = {
            major: MajorBench(major, running, Path(work) / f"helm{major}").run(rounds)
            for major in (3, 4)
        }
    print_table(results, rounds)
    print_sides(results)
    print_commands(results)


if __name__ == "__main__":
    main()

"""Flux's helm-controller and source-controller as local processes against the local stack's
cluster, and the HelmRepository and HelmRelease objects that ask them for what a gunj spec asks
gunj for: the same charts from the same local repositories, with the values gunj passes to Helm.

Only the Flux benchmark uses this (``bench/bench_flux.py``); the controllers are built by
:func:`shared.localstack.tools.ensure_flux_controllers`. Both controllers listen on 127.0.0.1
only (metrics, health, and source-controller's artifact server, which helm-controller fetches
charts from), watch every namespace, and run without leader election (one of each runs).
"""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..values.plan import ComponentPlan
from .meters import metric_total
from .processes import Daemon, free_port, http_ok
from .tools import FluxControllers

HELM_GROUP = "helm.toolkit.fluxcd.io"
HELM_VERSION = "v2"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
SOURCE_VERSION = "v1"
RUNTIME_NAMESPACE = "flux-system"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
HELM_MODULE = "helm.sh/helm/v"
STARTUP_SECONDS = 60.0
# Long enough that no periodic reconcile falls inside a measurement: only the objects' changes
# and the requested reconciles make the controllers work.
INTERVAL = "1h"


@dataclass(frozen=True)
class ReleaseSettings:
    """What a HelmRelease asks of helm-controller besides the chart and values: gunj's defaults
    for a component (Helm tests run, drift corrected, three retries then a rollback, five
    minutes per operation)."""

    timeout: str = "5m"
    tests: bool = True
    drift_detection: str = "enabled"
    retries: int = 3


@dataclass(frozen=True)
class RunningFlux:
    """Both controllers, started; their daemons and ports."""

    helm_controller: Daemon
    source_controller: Daemon
    metrics_ports: tuple[int, int]
    concurrent: int

    def sessions(self) -> tuple[int, ...]:
        pids = (self.helm_controller.pid(), self.source_controller.pid())
        return tuple(pid for pid in pids if pid is not None)

    def requests_made(self) -> float:
        """The API requests both controllers made, by their own client's count."""
        total = 0.0
        for port in self.metrics_ports:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
                total += metric_total(answer.read().decode(), "rest_client_requests_total")
        return total

    def stop(self) -> None:
        # helm-controller first: it is the one that would ask source-controller for charts.
        self.helm_controller.stop(timeout=30)
        self.source_controller.stop(timeout=30)


def embedded_helm(build_info: str) -> str | None:
    """The Helm module version a Go binary was built with, from ``go version -m``'s listing
    (``dep helm.sh/helm/v3 v3.19.0 h1:...``); None when it carries no Helm."""
    for line in build_info.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] in {"dep", "=>"} and fields[1].startswith(HELM_MODULE):
            return fields[2]
    return None


def helm_inside(binary: Path) -> str | None:
    """The Helm version compiled into ``binary`` (read with ``go version -m``)."""
    listing = subprocess.run(
        ["go", "version", "-m", str(binary)], capture_output=True, text=True, check=True
    ).stdout
    return embedded_helm(listing)


def apply_crds(kubectl: Path, kubeconfig: Path, crds: Iterable[Path]) -> None:
    """Apply the controllers' CRDs and wait until the API server serves them."""
    files = [str(crd) for crd in crds]
    arguments = [item for crd in files for item in ("-f", crd)]
    base = [str(kubectl), "--kubeconfig", str(kubeconfig)]
    subprocess.run(
        [*base, "apply", "--server-side", "--force-conflicts", *arguments],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*base, "wait", "--for=condition=Established", "--timeout=60s", *arguments],
        check=True,
        capture_output=True,
    )


def start(
    controllers: FluxControllers,
    kubeconfig: Path,
    folder: Path,
    concurrent: int,
    env: Mapping[str, str],
) -> RunningFlux:
    """Start source-controller and helm-controller (or restart them), ready when both answer
    their readiness probe."""
    folder.mkdir(parents=True, exist_ok=True)
    controller_env = {
        **env,
        "KUBECONFIG": str(kubeconfig),
        "RUNTIME_NAMESPACE": RUNTIME_NAMESPACE,
        "HOME": str(folder),
    }
    storage = free_port()
    (folder / "artifacts").mkdir(exist_ok=True)
    ports = {name: (free_port(), free_port()) for name in ("source", "helm")}

    def common(name: str) -> list[str]:
        metrics, health = ports[name]
        return [
            f"--metrics-addr=127.0.0.1:{metrics}",
            f"--health-addr=127.0.0.1:{health}",
            f"--concurrent={concurrent}",
            "--enable-leader-election=false",
            "--log-level=error",
        ]

    source = Daemon("flux-source-controller", folder)
    source.stop()
    source.start(
        [
            str(controllers.source_controller),
            *common("source"),
            f"--storage-path={folder / 'artifacts'}",
            f"--storage-addr=127.0.0.1:{storage}",
            f"--storage-adv-addr=127.0.0.1:{storage}",
        ],
        env=controller_env,
        cwd=folder,
    )
    helm = Daemon("flux-helm-controller", folder)
    helm.stop()
    helm.start([str(controllers.helm_controller), *common("helm")], env=controller_env, cwd=folder)
    running = RunningFlux(helm, source, (ports["helm"][0], ports["source"][0]), concurrent)
    try:
        for daemon, name in ((source, "source"), (helm, "helm")):
            health = ports[name][1]
            daemon.wait_until(
                lambda port=health: http_ok(f"http://127.0.0.1:{port}/readyz"),  # type: ignore[misc]
                timeout=STARTUP_SECONDS,
                what=f"{daemon.name} ready on port {health}",
            )
    except BaseException:
        running.stop()  # neither is left behind when the other does not start
        raise
    return running


def helm_repository(name: str, namespace: str, url: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{SOURCE_GROUP}/{SOURCE_VERSION}",
        "kind": "HelmRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "interval": INTERVAL},
    }


def helm_release(
    plan: ComponentPlan,
    repository: tuple[str, str],
    settings: ReleaseSettings = ReleaseSettings(),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The HelmRelease that installs the component ``plan`` describes: its release name and
    namespace, its chart at the plan's version from the HelmRepository ``repository``
    (namespace, name), and the values gunj gives Helm for it (the plan's complete values: a
    spec without ``valuesFrom``)."""
    if plan.mode != "helm":
        raise ValueError(f"{plan.component}: only a Helm-mode component has a HelmRelease")
    if plan.values_from:
        raise ValueError(f"{plan.component}: valuesFrom is not carried over to a HelmRelease")
    namespace, name = repository
    remediation = {"retries": settings.retries}
    return {
        "apiVersion": f"{HELM_GROUP}/{HELM_VERSION}",
        "kind": "HelmRelease",
        "metadata": {
            "name": plan.release,
            "namespace": plan.namespace,
            "labels": dict(labels or {}),
        },
        "spec": {
            "interval": INTERVAL,
            "releaseName": plan.release,
            "timeout": settings.timeout,
            "chart": {
                "spec": {
                    "chart": plan.chart,
                    "version": plan.chart_version,
                    "sourceRef": {"kind": "HelmRepository", "name": name, "namespace": namespace},
                    "interval": INTERVAL,
                }
            },
            "install": {"remediation": remediation},
            "upgrade": {"remediation": {**remediation, "strategy": "rollback"}},
            "test": {"enable": settings.tests},
            "driftDetection": {"mode": settings.drift_detection},
            "values": plan.complete_values([]),
        },
    }


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for found in obj.get("status", {}).get("conditions", []) or []:
        if found.get("type") == kind:
            return dict(found)
    return None


def is_ready(release: Mapping[str, Any], requested: str | None = None) -> bool:
    """True when helm-controller reports the HelmRelease Ready for its current generation (and,
    with ``requested``, has handled the reconcile requested with that token)."""
    status = release.get("status", {}) or {}
    if status.get("observedGeneration") != release.get("metadata", {}).get("generation"):
        return False
    if requested is not None and status.get("lastHandledReconcileAt") != requested:
        return False
    ready = condition(release, "Ready")
    return ready is not None and ready.get("status") == "True"


def given_up(release: Mapping[str, Any]) -> str | None:
    """helm-controller's message when it stopped trying (Stalled: retries exhausted, or a
    problem no retry fixes); None while it works or retries."""
    stalled = condition(release, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return str(stalled.get("message", ""))
    return None

"""Helpers for tests of the reconcile engine on the local cluster: a reconciler per Helm major
whose Helm binary counts its runs, small platform specs, and reads of what the cluster holds."""

from __future__ import annotations

import copy
import os
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shared.clusters import current_context_of
from shared.engine.reconciler import Reconciler
from shared.engine.request import Request
from shared.engine.resource import read_platform
from shared.engine.settings import EngineSettings
from shared.helm import HelmClient
from shared.helm.releases import ObservedRelease, ReleaseStore
from shared.helm.repositories import RepositorySettings
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from shared.values.spec import ObservabilityPlatform
from shared.values.spec.status import PlatformStatus
from shared.values.validation import validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# A Prometheus with nothing but its server: the least cluster work that still is the real chart.
SMALL_PROMETHEUS: dict[str, Any] = {
    "chartVersion": "29.27.0",
    "storage": {"enabled": False},
    "alertmanager": {"enabled": False},
    "nodeExporter": {"enabled": False},
    "kubeStateMetrics": {"enabled": False},
}
SMALL_TEMPO: dict[str, Any] = {"chartVersion": "2.2.4"}


def platform(
    namespace: str, name: str = "obs", **components: dict[str, Any]
) -> ObservabilityPlatform:
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": namespace},
        "spec": copy.deepcopy(components),
    }
    result = validate(document)
    assert result.platform is not None, result.problems
    return result.platform


def example(name: str, namespace: str) -> ObservabilityPlatform:
    document = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    document["metadata"]["namespace"] = namespace
    result = validate(document)
    assert result.platform is not None, result.problems
    return result.platform


@dataclass
class Engine:
    """A reconciler for the local cluster with one Helm major, and what it leaves behind."""

    reconciler: Reconciler
    helm: HelmClient
    access: ClusterAccess
    calls_log: Path
    stack: Stack
    seen: int = field(default=0)

    def apply(self, platform: ObservabilityPlatform, **request: Any) -> Any:
        return self.reconciler.apply(platform, Request(**request))

    def helm_runs(self) -> list[str]:
        """Every Helm command line run since the last call."""
        lines = self.calls_log.read_text().splitlines() if self.calls_log.exists() else []
        fresh, self.seen = lines[self.seen :], len(lines)
        return fresh

    def status(self, namespace: str, name: str = "obs") -> PlatformStatus:
        stored = read_platform(self.access, namespace, name)
        assert stored is not None, f"no platform {namespace}/{name}"
        return stored.status

    def release(self, namespace: str, release: str) -> ObservedRelease:
        return ReleaseStore(self.access).observe(release, namespace)

    def events(self, namespace: str, name: str = "obs") -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Events about the platform, oldest first."""
        items = self.access.core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={name}"
        ).items
        items.sort(key=lambda event: event.metadata.creation_timestamp)
        return [(event.type, event.reason, event.message) for event in items]


def counting_helm(real: Path, folder: Path) -> tuple[Path, Path]:
    """A Helm that logs each command line to a file, then runs the real one."""
    log = folder / "helm-calls.log"
    wrapper = folder / "helm"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper, log


def make_engine(
    helm: HelmClient, stack: Stack, folder: Path, cache: Path, **reconciler_fields: Any
) -> Engine:
    """An engine for the local cluster (``reconciler_fields``: more fields of its
    :class:`Reconciler`, such as the Secret Manager secrets it may read)."""
    wrapper, log = counting_helm(helm.binary.path, folder)
    access = ClusterAccess(stack.kubeconfig)
    reconciler = Reconciler(
        "local",
        access,
        EngineSettings(helm_binary=wrapper, cache=cache),
        repositories=RepositorySettings.from_environment(stack.environment()),
        **reconciler_fields,
    )
    return Engine(reconciler, helm, access, log, stack)


def cli_environment(stack: Stack, work: Path, helm: Path) -> dict[str, str]:
    """The environment a `gunj` process needs to reach the local cluster as ``local``, with
    ``helm`` and a chart cache of its own under ``work``."""
    clusters = work / "clusters.yaml"
    clusters.write_text(
        yaml.safe_dump(
            {
                "local": {
                    "kubeconfig": str(stack.kubeconfig),
                    "context": current_context_of(stack.kubeconfig),
                }
            }
        )
    )
    return {
        **os.environ,
        **stack.environment(),
        "GUNJ_CLUSTERS": str(clusters),
        "GUNJ_HELM_BINARY": str(helm),
        "GUNJ_LEASE_SECONDS": "5",
        "GUNJ_CACHE_DIR": str(work / "cache"),
        "GUNJ_FLEET_PROJECT": f"fleet-{work.name}-{uuid.uuid4().hex[:8]}",
    }

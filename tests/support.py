"""Helpers for tests: chart references into the local repositories, pod readiness."""

from __future__ import annotations

from typing import Any

import semver

from shared.helm import ChartReference
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack

# Values with which each test chart installs and runs on the local cluster (Loki's defaults do
# not render, as upstream's do not: object storage is its default).
RUNNABLE_VALUES: dict[str, dict[str, Any]] = {
    "prometheus": {},
    "grafana": {},
    "tempo": {},
    "loki": {
        "deploymentMode": "Monolithic",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "useTestSchema": True,
        },
        "singleBinary": {"replicas": 1},
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
    },
}
REPOSITORY_OF = {
    "prometheus": "prometheus-community",
    "grafana": "grafana-community",
    "loki": "grafana-community",
    "tempo": "grafana-community",
}


def http_chart(stack: Stack, name: str, version: str) -> ChartReference:
    return ChartReference(
        name=name, version=version, repository=stack.repository_url(REPOSITORY_OF[name])
    )


def oci_chart(stack: Stack, name: str, version: str, oci_path: str) -> ChartReference:
    return ChartReference(name=name, version=version, repository=stack.oci_url(oci_path))


def latest_version(stack: Stack, name: str) -> str:
    """The newest stable version of a chart in its current repository, from the catalogue."""
    versions = [
        chart.version
        for chart in stack.charts
        if chart.name == name
        and chart.repository == REPOSITORY_OF[name]
        and chart.behaviour is None
    ]
    stable = [v for v in versions if semver.Version.parse(v).prerelease is None]
    return str(max(stable, key=semver.Version.parse))


def release_pods_ready(cluster: ClusterAccess, namespace: str, release: str) -> tuple[int, int]:
    """(ready, total) for the release's pods that are not completed test or job pods."""
    pods = cluster.pods(namespace, f"app.kubernetes.io/instance={release}")
    workload = [pod for pod in pods if pod.status.phase not in {"Succeeded", "Failed"}]
    ready = [
        pod
        for pod in workload
        if pod.status.phase == "Running"
        and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
    ]
    return len(ready), len(workload)

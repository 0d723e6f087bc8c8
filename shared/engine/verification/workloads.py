"""Are a release's workloads ready? Read from the API server for every Deployment, StatefulSet
and DaemonSet in the release's stored manifest, the way kstatus judges them: the controller has
seen the current generation, and every replica is updated, ready and available."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from ...kube import ClusterAccess
from ...kube.errors import ApiError, ApiNotFound
from .pacing import pauses

KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    namespace: str

    def describe(self) -> str:
        return f"{self.kind} {self.name}"


def workloads(manifest: str, namespace: str) -> list[Workload]:
    """The workloads of a release's stored manifest."""
    return workloads_of(yaml.safe_load_all(manifest), namespace)


def workloads_of(objects: Iterable[Any], namespace: str) -> list[Workload]:
    """The workloads among ``objects`` (object dicts, as applied; anything else is skipped)."""
    found = []
    for document in objects:
        if not isinstance(document, Mapping) or document.get("kind") not in KINDS:
            continue
        metadata = document.get("metadata") or {}
        found.append(
            Workload(
                document["kind"], metadata.get("name", ""), metadata.get("namespace") or namespace
            )
        )
    return found


def _read(access: ClusterAccess, workload: Workload) -> Any:
    """The workload as the API server has it, spec and status."""
    reads = {
        "Deployment": access.apps.read_namespaced_deployment,
        "StatefulSet": access.apps.read_namespaced_stateful_set,
        "DaemonSet": access.apps.read_namespaced_daemon_set,
    }
    return reads[workload.kind](workload.name, workload.namespace)


def _not_ready(  # noqa: PLR0911 - one answer per kind and condition
    access: ClusterAccess, workload: Workload
) -> str | None:
    """Why ``workload`` is not ready, or None when it is."""
    try:
        obj = _read(access, workload)
    except ApiNotFound:
        return "does not exist"
    status, generation = obj.status, obj.metadata.generation or 0
    if (status.observed_generation or 0) < generation:
        return "its controller has not seen the current spec"
    if workload.kind == "DaemonSet":
        wanted = status.desired_number_scheduled or 0
        counts = (
            status.updated_number_scheduled or 0,
            status.number_ready or 0,
            status.number_available or 0,
        )
        if min(counts) < wanted:
            return f"{counts[1]}/{wanted} pods ready"
        return None
    wanted = obj.spec.replicas if obj.spec.replicas is not None else 1
    ready = status.ready_replicas or 0
    updated = status.updated_replicas or 0
    if workload.kind == "Deployment":
        available = status.available_replicas or 0
        if min(ready, updated, available) < wanted or (status.replicas or 0) > updated:
            return f"{ready}/{wanted} replicas ready, {updated} updated"
        return None
    if ready < wanted or (
        status.update_revision
        and status.current_revision
        and status.update_revision != status.current_revision
        and updated < wanted
    ):
        return f"{ready}/{wanted} replicas ready, {updated} updated"
    return None


def wait_ready(access: ClusterAccess, found: list[Workload], timeout: float) -> tuple[bool, str]:
    """Wait until every workload is ready; (ready, what was found)."""
    deadline = time.monotonic() + timeout
    pause = pauses(deadline)
    while True:
        waiting = dict(_pending(access, found))
        if not waiting:
            return True, f"{len(found)} workload(s) ready" if found else "no workloads"
        if time.monotonic() >= deadline:
            return False, "not ready: " + "; ".join(
                f"{workload.describe()}: {why}{_held_by(access, workload)}"
                for workload, why in waiting.items()
            )
        time.sleep(next(pause))


def _pending(access: ClusterAccess, found: list[Workload]) -> Iterator[tuple[Workload, str]]:
    for workload in found:
        why = _not_ready(access, workload)
        if why is not None:
            yield workload, why


def _held_by(access: ClusterAccess, workload: Workload) -> str:
    """What holds the workload's first unready pod back, as its own conditions or container
    states say (unschedulable for want of a volume, an image that cannot be pulled, a crash
    loop): a replica count alone does not tell the operator where to look."""
    try:
        obj = _read(access, workload)
        labels = (obj.spec.selector.match_labels or {}) if obj.spec.selector else {}
        if not labels:
            return ""
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        pods: list[Any] = access.core.list_namespaced_pod(
            workload.namespace, label_selector=selector
        ).items
    except ApiError:
        return ""  # the reason is a courtesy; the verdict stands without it
    for pod in sorted(pods, key=lambda p: p.metadata.name or ""):
        reason = _pod_reason(pod)
        if reason:
            return f" (pod {pod.metadata.name}: {reason})"
    return ""


def _pod_reason(pod: Any) -> str | None:
    status = pod.status
    if status is None:
        return None
    for condition in status.conditions or []:
        if condition.type == "PodScheduled" and condition.status == "False":
            return f"unschedulable: {condition.message or condition.reason}"
    for container in status.container_statuses or []:
        waiting = container.state.waiting if container.state else None
        if waiting and waiting.reason:
            return f"container {container.name} {waiting.reason}: {waiting.message or ''}".strip()
        if not container.ready:
            return f"container {container.name} not ready"
    return None

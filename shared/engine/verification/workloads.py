"""Are a release's workloads ready? Every Deployment, StatefulSet and DaemonSet in the release's
stored manifest, judged the way kstatus judges them: the controller has seen the current
generation, and every replica is updated, ready and available. One judgement, of the objects as
the API server gives them (JSON): the verification after a change waits for it, and the live
check of every look (:mod:`..live`) reads it from the objects it lists.

When a workload is not ready, what holds its first unready pod back is read from the pod
(unschedulable and the scheduler's words, an image that cannot be pulled, a crash loop): a
replica count alone does not tell the operator where to look.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ... import yamlio
from ...kube import ClusterAccess
from ...kube.errors import ApiError
from ...kube.resources import KNOWN_KINDS, Kind
from ..errors import NativeBlocked
from .pacing import pauses

WATCH_EVERY = 2.0
"""Seconds between two questions to a wait's watch."""

KINDS = ("Deployment", "StatefulSet", "DaemonSet")
_API = {kind: KNOWN_KINDS[("apps/v1", kind)] for kind in KINDS}
_PODS = KNOWN_KINDS[("v1", "Pod")]


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    namespace: str

    def describe(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def resource(self) -> Kind:
        return _API[self.kind]


def workloads(manifest: str, namespace: str) -> list[Workload]:
    """The workloads of a release's stored manifest."""
    return workloads_of(yamlio.safe_load_all(manifest), namespace)


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


def not_ready(  # noqa: PLR0911 - one answer per kind and condition
    kind: str, obj: Mapping[str, Any] | None
) -> str | None:
    """Why the workload ``obj`` (as the API server gives it) is not ready, or None when it is."""
    if obj is None:
        return "does not exist"
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation") or 0
    if (status.get("observedGeneration") or 0) < generation:
        return "its controller has not seen the current spec"
    if kind == "DaemonSet":
        wanted = status.get("desiredNumberScheduled") or 0
        counts = [status.get(k) or 0 for k in ("updatedNumberScheduled", "numberReady")]
        counts.append(status.get("numberAvailable") or 0)
        return f"{counts[1]}/{wanted} pods ready" if min(counts) < wanted else None
    wanted = spec.get("replicas", 1)
    wanted = 1 if wanted is None else wanted
    ready, updated = status.get("readyReplicas") or 0, status.get("updatedReplicas") or 0
    if kind == "Deployment":
        available = status.get("availableReplicas") or 0
        if min(ready, updated, available) < wanted or (status.get("replicas") or 0) > updated:
            return f"{ready}/{wanted} replicas ready, {updated} updated"
        return None
    update, current = status.get("updateRevision"), status.get("currentRevision")
    if ready < wanted or (update and current and update != current and updated < wanted):
        return f"{ready}/{wanted} replicas ready, {updated} updated"
    return None


def held_by(access: ClusterAccess, namespace: str, obj: Mapping[str, Any]) -> str:
    """What holds the workload's first unready pod back (`` (pod x: why)``), or nothing."""
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        return ""
    labels = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
    try:
        pods = access.resources.list(_PODS, namespace, labels)
    except ApiError:
        return ""  # the reason is a courtesy; the verdict stands without it
    for pod in sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("name", ""))):
        reason = _pod_reason(pod)
        if reason:
            return f" (pod {pod['metadata']['name']}: {reason})"
    return ""


def _pod_reason(pod: Mapping[str, Any]) -> str | None:
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"unschedulable: {condition.get('message') or condition.get('reason')}"
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            why = f"container {container.get('name')} {waiting['reason']}: "
            return (why + str(waiting.get("message") or "")).strip()
        if not container.get("ready"):
            return f"container {container.get('name')} not ready"
    return None


def wait_ready(
    access: ClusterAccess,
    found: list[Workload],
    timeout: float,
    watch: Callable[[], str | None] | None = None,
) -> tuple[bool, str]:
    """Wait until every workload is ready; (ready, what was found). ``watch``: asked every
    :data:`WATCH_EVERY` seconds; a reason it gives ends the wait (:class:`NativeBlocked`)."""
    deadline = time.monotonic() + timeout
    pause = pauses(deadline)
    asked = time.monotonic()
    while True:
        if watch is not None and time.monotonic() - asked >= WATCH_EVERY:
            asked = time.monotonic()
            if reason := watch():
                raise NativeBlocked(f"stopped waiting: {reason}", reason=reason)
        waiting = dict(_pending(access, found))
        if not waiting:
            return True, f"{len(found)} workload(s) ready" if found else "no workloads"
        if time.monotonic() >= deadline:
            return False, "not ready: " + "; ".join(
                f"{workload.describe()}: {why}{held}"
                for workload, (why, obj) in waiting.items()
                for held in [held_by(access, workload.namespace, obj) if obj else ""]
            )
        time.sleep(next(pause))


def _pending(
    access: ClusterAccess, found: list[Workload]
) -> Iterator[tuple[Workload, tuple[str, dict[str, Any] | None]]]:
    for workload in found:
        obj = access.resources.get(workload.resource, workload.namespace, workload.name)
        why = not_ready(workload.kind, obj)
        if why is not None:
            yield workload, (why, obj)

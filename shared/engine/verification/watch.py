"""While a change waits for its workloads: does the cluster say they cannot come up?

A :class:`ReleaseWatch` is asked every few seconds while Helm waits (``run_helm``'s ``watch``)
or while native mode waits for the workloads. From the objects the change applies (Helm's
pending revision's manifest, or native mode's rendered objects) it finds the Deployments,
StatefulSets and DaemonSets, their pods (through their selectors), the claims those pods wait
for and the release's own claims, and the ``FailedCreate`` Events of the controllers that make
their pods; :mod:`.blockers` judges what they say. A reason is believed only once the same
workload has given the same reason for :data:`SETTLE` (a pod pending for a second while a node
joins is no verdict); then the watch answers with it, and the change is stopped.

The watch only reads, and every read is a courtesy: a read the API server refuses or cannot
answer is skipped, and the operation's own deadline stands. What it reads: pods, Events and
PersistentVolumeClaims of the namespace, StorageClasses by name, nodes (their taints) when the
scheduler speaks of taints, and whether a cluster autoscaler runs (its status ConfigMap).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from ... import yamlio
from ...helm.releases import ReleaseStore
from ...kube import ClusterAccess
from ...kube.errors import ApiError
from ...kube.resources import KNOWN_KINDS, Kind
from ...timestamps import parse_time
from . import blockers
from .workloads import KINDS

SETTLE = timedelta(seconds=10)
"""How long a reason must hold before it is believed."""
# Events older than the watch by more than this are about an earlier attempt (the API server's
# clock and gunj's may differ by a little).
EVENT_SLACK = timedelta(seconds=5)
# Events of one reason read per look, at most: a namespace's Events are not gunj's to bound.
EVENTS_READ = 500
_PODS = KNOWN_KINDS[("v1", "Pod")]
_CLAIMS = KNOWN_KINDS[("v1", "PersistentVolumeClaim")]
_STORAGE_CLASSES = Kind("storage.k8s.io/v1", "StorageClass", "storageclasses", False)
_NODES = Kind("v1", "Node", "nodes", False)
_EVENTS = Kind("v1", "Event", "events", True)
_CONFIG_MAPS = KNOWN_KINDS[("v1", "ConfigMap")]
# Where a cluster autoscaler (the open-source one, GKE's) writes its status: that one runs.
AUTOSCALER_STATUS = ("kube-system", "cluster-autoscaler-status")
# Controllers whose FailedCreate Events say a workload's pods could not be created.
_CREATORS = {"Deployment": "ReplicaSet", "StatefulSet": "StatefulSet", "DaemonSet": "DaemonSet"}

Objects = Callable[[], list[dict[str, Any]] | None]
"""The objects a change applies, once known (None: not yet)."""


@dataclass(frozen=True)
class _Workload:
    kind: str
    name: str
    namespace: str
    selector: Mapping[str, str]

    def describe(self) -> str:
        return f"{self.kind} {self.name}"

    def made(self, kind: str, name: str) -> bool:
        """Whether an Event about ``kind`` ``name`` is about this workload's pod maker."""
        if kind != _CREATORS[self.kind]:
            return False
        if kind == "ReplicaSet":  # <deployment>-<pod template hash>
            return name.rpartition("-")[0] == self.name
        return name == self.name


def _workloads(objects: Iterable[Any], namespace: str) -> list[_Workload]:
    found = []
    for obj in objects:
        if not isinstance(obj, Mapping) or obj.get("kind") not in KINDS:
            continue
        metadata = obj.get("metadata") or {}
        selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        found.append(
            _Workload(
                str(obj["kind"]),
                str(metadata.get("name", "")),
                str(metadata.get("namespace") or namespace),
                {str(k): str(v) for k, v in selector.items()},
            )
        )
    return found


def _claims(objects: Iterable[Any], namespace: str) -> list[tuple[str, str]]:
    return [
        (str(obj["metadata"].get("namespace") or namespace), str(obj["metadata"].get("name")))
        for obj in objects
        if isinstance(obj, Mapping)
        and obj.get("kind") == "PersistentVolumeClaim"
        and isinstance(obj.get("metadata"), Mapping)
    ]


def _pod_claims(pod: Mapping[str, Any]) -> list[str]:
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return [
        str(v["persistentVolumeClaim"]["claimName"])
        for v in volumes
        if isinstance(v, Mapping) and (v.get("persistentVolumeClaim") or {}).get("claimName")
    ]


def pending_revision(
    store: ReleaseStore, release: str, namespace: str, after: int | None
) -> Objects:
    """The objects of the release's revision newer than ``after`` (the one before the change)
    while it is pending: what Helm is applying and waiting for."""
    found: list[dict[str, Any]] = []

    def objects() -> list[dict[str, Any]] | None:
        if found:
            return found
        history = store.revisions(release, namespace)
        if not history or history[-1].revision <= (after or 0) or not history[-1].status.pending:
            return None
        manifest = history[-1].decode().get("manifest") or ""
        found.extend(o for o in yamlio.safe_load_all(manifest) if isinstance(o, dict))
        return found

    return objects


@dataclass
class ReleaseWatch:
    """Asked while a change waits (see the module): the reason the cluster gives that it cannot
    come up, once settled, else None."""

    access: ClusterAccess
    namespace: str
    objects: Objects
    settle: timedelta = SETTLE
    clock: Callable[[], float] = time.monotonic
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    _seen: dict[tuple[str, str], float] = field(default_factory=dict, init=False)
    _classes: set[str] = field(default_factory=set, init=False)
    """Storage classes found to exist (looked up once)."""
    _autoscaled: bool | None = field(default=None, init=False)

    @classmethod
    def of(
        cls, access: ClusterAccess, namespace: str, objects: list[dict[str, Any]]
    ) -> ReleaseWatch:
        """A watch of objects known already (native mode's)."""
        return cls(access, namespace, lambda: objects)

    def __call__(self) -> str | None:
        """The reason the change cannot come up, once it has held for :attr:`settle`; else
        None."""
        try:
            objects = self.objects()
            found = self._look(objects) if objects else {}
        except (ApiError, yaml.YAMLError, ValueError, OSError):
            # A read refused or unanswered, a stored revision that does not decode: the watch
            # is a courtesy, and the operation's own deadline stands.
            return None
        now = self.clock()
        self._seen = {key: self._seen.get(key, now) for key in found}
        for key, since in self._seen.items():
            if now - since >= self.settle.total_seconds():
                return found[key]
        return None

    def _look(self, objects: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
        """Every reason found now, by (what, the cluster's words)."""
        found: dict[tuple[str, str], str] = {}
        look = _Look(self)
        for workload in _workloads(objects, self.namespace):
            for key, reason in look.workload(workload):
                found[key] = reason
        for namespace, name in _claims(objects, self.namespace):
            if said := look.claim(namespace, name):
                found[(f"claim {name}", said)] = said
        return found

    def autoscaled(self) -> bool:
        """Whether a cluster autoscaler runs (looked up once; True when it cannot be told:
        a node it may add is no verdict)."""
        if self._autoscaled is None:
            try:
                found = self.access.resources.get(_CONFIG_MAPS, *AUTOSCALER_STATUS)
            except ApiError:
                return True
            self._autoscaled = found is not None
        return self._autoscaled

    def storage_class_exists(self, name: str) -> bool | None:
        if name in self._classes:
            return True
        try:
            exists = self.access.resources.get(_STORAGE_CLASSES, None, name) is not None
        except ApiError:
            return None
        if exists:
            self._classes.add(name)
        return exists


@dataclass
class _Look:
    """One look: each list read at most once."""

    watch: ReleaseWatch
    _events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _taints: bool | None = None

    @property
    def access(self) -> ClusterAccess:
        return self.watch.access

    def events(self, namespace: str, reason: str) -> list[dict[str, Any]]:
        key = f"{namespace}/{reason}"
        if key not in self._events:
            answer = self.access.resources.request(
                "GET",
                _EVENTS.path(namespace),
                query=[("fieldSelector", f"reason={reason}"), ("limit", str(EVENTS_READ))],
            )
            earliest = self.watch.started - EVENT_SLACK
            self._events[key] = [
                e for e in answer.get("items") or [] if (_when(e) or earliest) >= earliest
            ]
        return self._events[key]

    def passing_taints(self) -> bool:
        if self._taints is None:
            try:
                nodes = self.access.resources.list(_NODES, None)
            except ApiError:
                self._taints = True  # cannot tell: not a verdict
            else:
                self._taints = bool(blockers.lifecycle_taints(nodes))
        return self._taints

    def workload(self, workload: _Workload) -> list[tuple[tuple[str, str], str]]:
        """(what, the cluster's words) and the reason to report, for each reason found."""
        what = workload.describe()
        reasons = []
        for event in self.events(workload.namespace, "FailedCreate"):
            involved = event.get("involvedObject") or {}
            if workload.made(str(involved.get("kind")), str(involved.get("name"))):
                reason = blockers.quota_blocker(str(event.get("message") or ""))
                if reason:
                    reasons.append(((what, reason), f"{what}: {reason}"))
        if not workload.selector:
            return reasons
        selector = ",".join(f"{k}={v}" for k, v in sorted(workload.selector.items()))
        pods = self.access.resources.list(_PODS, workload.namespace, selector)
        if any((pod.get("metadata") or {}).get("deletionTimestamp") for pod in pods):
            # A pod of its own is going: a port or volume it holds is freed soon.
            return reasons
        for pod in pods:
            if image := blockers.image_blocker(pod):
                reasons.append(((what, image), f"{what}: {image}"))
                continue
            message = blockers.unschedulable(pod)
            if message is None:
                continue
            if blockers.waits_for_claims(message):
                # The claim names itself: the same reason as the claim of the release.
                for name in _pod_claims(pod):
                    if said := self.claim(workload.namespace, name):
                        reasons.append(((f"claim {name}", said), said))
            elif scheduling := self.scheduling(workload, pod, message):
                reasons.append(((what, scheduling), f"{what}: {scheduling}"))
        return reasons

    def scheduling(self, workload: _Workload, pod: Mapping[str, Any], message: str) -> str | None:
        name = str((pod.get("metadata") or {}).get("name", ""))

        def said(reason: str) -> bool:
            return any(
                (e.get("involvedObject") or {}).get("name") == name
                for e in self.events(workload.namespace, reason)
            )

        # A new node never takes a DaemonSet's pod: it is pinned to its own node.
        may_come = (
            workload.kind != "DaemonSet"
            and self.watch.autoscaled()
            and not said("NotTriggerScaleUp")
        )
        return blockers.scheduling_blocker(
            message,
            passing_taints="untolerated taint" in message and self.passing_taints(),
            scaling_up=said("TriggeredScaleUp"),
            node_may_come=may_come,
        )

    def claim(self, namespace: str, name: str) -> str | None:
        claim = self.access.resources.get(_CLAIMS, namespace, name)
        if claim is None:
            return None
        storage_class = str((claim.get("spec") or {}).get("storageClassName") or "")
        if not storage_class or (claim.get("status") or {}).get("phase") != "Pending":
            return None
        return blockers.claim_blocker(claim, self.watch.storage_class_exists(storage_class))


def _when(event: Mapping[str, Any]) -> datetime | None:
    """When an Event last happened (core/v1 keeps it in one of three fields)."""
    series = event.get("series") or {}
    return (
        parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("lastTimestamp"))
        or parse_time(event.get("eventTime"))
    )

"""Which component of which platform an alert is about, from what the alert carries.

In order, the first that answers:

1. gunj's own labels: ``gunj_cluster``, ``gunj_platform`` (``namespace/name``, or the name
   with the namespace in ``gunj_namespace``: Cloud Monitoring's user labels allow no ``/``)
   and ``gunj_component``;
2. the release: a namespace label (``namespace``, ``namespace_name``, ``kubernetes_namespace``)
   and ``release``, ``helm_release`` or ``app.kubernetes.io/instance`` (or its Prometheus
   spelling ``app_kubernetes_io_instance``): the release's storage says which platform and
   component gunj made it for;
3. a Kubernetes object: a pod (``pod``, ``pod_name``, ``kubernetes_pod_name``) or a workload
   (``deployment``, ``statefulset``, ``daemonset``) in that namespace, followed through its
   owners to the object Helm made, whose ``meta.helm.sh/release-name`` names the release (or
   to a native-mode object, whose ``gunj.io/native-instance`` label does).

The cluster comes from ``gunj_cluster``, ``cluster`` or ``cluster_name`` (Cloud Monitoring's
label for GKE resources), matched against registered names and their aliases. An alert that
names no target this way is :class:`NoTarget`: reported and acknowledged, never retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..clusters import ClusterRegistry, UnknownCluster
from ..errors import GunjError
from ..events.alerts import Alert
from ..helm.releases import ReleaseStore
from ..kube import ClusterAccess
from ..kube.errors import ApiError, ApiNotFound
from ..labels import (
    COMPONENT_LABEL,
    NATIVE_INSTANCE_LABEL,
    PLATFORM_LABEL,
)
from ..labels import HELM_RELEASE_ANNOTATION as RELEASE_ANNOTATION
from ..native.store import OWNER as NATIVE_OWNER
from ..values.spec import COMPONENTS

CLUSTER_LABELS = ("gunj_cluster", "cluster", "cluster_name")
NAMESPACE_LABELS = ("namespace", "namespace_name", "kubernetes_namespace")
RELEASE_LABELS = (
    "release",
    "helm_release",
    "app.kubernetes.io/instance",
    "app_kubernetes_io_instance",
)
POD_LABELS = ("pod", "pod_name", "kubernetes_pod_name")
WORKLOAD_LABELS = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
}
# An owner chain longer than this is not one Kubernetes' controllers make.
OWNER_DEPTH = 5


class NoTarget(GunjError):
    """The alert names no platform component gunj manages."""


@dataclass(frozen=True)
class Target:
    cluster: str
    namespace: str
    platform: str
    component: str
    found_by: str

    def describe(self) -> str:
        return f"{self.component} of {self.namespace}/{self.platform} on {self.cluster}"


def _first(labels: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    return next(((name, labels[name]) for name in names if labels.get(name)), None)


def named_cluster(alert: Alert, registry: ClusterRegistry) -> str:
    """The registered name of the cluster ``alert`` names (by name or alias); NoTarget when it
    names none, or one that is not registered."""
    named = _first(alert.labels, CLUSTER_LABELS)
    if named is None:
        raise NoTarget(f"{alert.describe()} names no cluster (labels {', '.join(CLUSTER_LABELS)})")
    try:
        return registry.find(named[1]).name
    except UnknownCluster:
        raise NoTarget(
            f"{alert.describe()} names cluster {named[1][:80]!r} ({named[0]}), which is not "
            "registered (nor an alias)"
        ) from None


def find_target(
    alert: Alert, registry: ClusterRegistry, access_of: Callable[[str, str], ClusterAccess]
) -> Target:
    """The component ``alert`` is about. ``access_of(cluster, namespace)``: how to read the
    namespace's releases (as the identity the registry names for it)."""
    labels = alert.labels
    cluster = named_cluster(alert, registry)
    if labels.get("gunj_platform") and labels.get("gunj_component"):
        namespace, _, name = labels["gunj_platform"].rpartition("/")
        namespace = namespace or labels.get("gunj_namespace", "")
        component = labels["gunj_component"]
        if not namespace or not name or component not in COMPONENTS:
            raise NoTarget(
                f"{alert.describe()}: gunj_platform must be namespace/name (or the name, with "
                f"gunj_namespace) and gunj_component one of {', '.join(COMPONENTS)}"
            )
        return Target(cluster, namespace, name, component, "gunj labels")
    space = _first(labels, NAMESPACE_LABELS)
    if space is None:
        raise NoTarget(
            f"{alert.describe()} names no platform: neither gunj_platform and gunj_component, "
            f"nor a namespace ({', '.join(NAMESPACE_LABELS)}) with a release or an object"
        )
    namespace = space[1]
    try:
        return _in_cluster(alert, cluster, namespace, access_of(cluster, namespace))
    except ApiError as error:
        raise error.doing(f"finding the component {alert.describe()} is about") from None


def _in_cluster(alert: Alert, cluster: str, namespace: str, access: ClusterAccess) -> Target:
    """The component a release or object named by the alert belongs to, read from the cluster."""
    labels = alert.labels
    release = _first(labels, RELEASE_LABELS)
    found_by = f"release {release[1]}" if release else ""
    release_name = release[1] if release else _release_of_object(access, namespace, labels)
    if release_name is None:
        raise NoTarget(
            f"{alert.describe()} names namespace {namespace} but no release "
            f"({', '.join(RELEASE_LABELS)}) nor an object of one"
        )
    found_by = found_by or f"object of release {release_name}"
    # Helm's releases, then native mode's (kept in the same format under their own owner).
    for store in (ReleaseStore(access), ReleaseStore(access, owner=NATIVE_OWNER)):
        for revision in reversed(store.revisions(release_name, namespace)):
            owner = revision.labels.get(PLATFORM_LABEL)
            part = revision.labels.get(COMPONENT_LABEL)
            if owner and part in COMPONENTS:
                return Target(cluster, namespace, owner, part, found_by)
    raise NoTarget(f"release {release_name} in {namespace} on {cluster} is not one gunj made")


def _release_of_object(
    access: ClusterAccess, namespace: str, labels: Mapping[str, str]
) -> str | None:
    pod = _first(labels, POD_LABELS)
    if pod is not None:
        return _release_up_the_owners(access, namespace, "Pod", pod[1])
    for label, kind in WORKLOAD_LABELS.items():
        if labels.get(label):
            return _release_up_the_owners(access, namespace, kind, labels[label])
    return None


def _read(access: ClusterAccess, kind: str, namespace: str, name: str) -> Any:
    readers: dict[str, Callable[[str, str], Any]] = {
        "Pod": access.core.read_namespaced_pod,
        "ReplicaSet": access.apps.read_namespaced_replica_set,
        "Deployment": access.apps.read_namespaced_deployment,
        "StatefulSet": access.apps.read_namespaced_stateful_set,
        "DaemonSet": access.apps.read_namespaced_daemon_set,
    }
    if kind not in readers:
        return None
    try:
        return readers[kind](name, namespace)
    except ApiNotFound:
        return None


def _release_up_the_owners(
    access: ClusterAccess, namespace: str, kind: str, name: str
) -> str | None:
    """Follow controller owners from an object to the one Helm (or native mode) made, and read
    its release."""
    for _ in range(OWNER_DEPTH):
        obj = _read(access, kind, namespace, name)
        if obj is None:
            return None
        annotations = obj.metadata.annotations or {}
        if annotations.get(RELEASE_ANNOTATION):
            return str(annotations[RELEASE_ANNOTATION])
        native = (obj.metadata.labels or {}).get(NATIVE_INSTANCE_LABEL)
        if native:  # a pod or workload of native mode, labelled with its release
            return str(native)
        owner = next((o for o in obj.metadata.owner_references or [] if o.controller), None)
        if owner is None:
            return None
        kind, name = owner.kind, owner.name
    return None

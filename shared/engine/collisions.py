"""What a release would take that another release already holds, across namespaces: its
cluster-scoped objects, and the host ports of its pods. Found before Helm installs or upgrades,
so a platform that can never succeed here is refused, naming the platform in its way, rather
than spending its retries on Helm's ownership error or on pods no node can run.

Two platforms of one name in two namespaces render the same cluster-scoped names (a chart's
``<release>-clusterrole``), and Helm refuses to install an object another release owns. A
DaemonSet asking for a host port that another platform's DaemonSet already takes on the same
nodes (the prometheus chart's node exporter, on the host's network) can never be scheduled.

The release is rendered with ``helm template`` from the chart archive Helm would install, with
the values it would be given. Each cluster-scoped object it makes is read by name: one that
exists and is not this release's (Helm's ``meta.helm.sh/release-name`` and
``release-namespace`` annotations, or native mode's platform labels) collides. The host ports
its pod templates ask for (``hostPort``, or a container port on the host's network) are compared
with every DaemonSet of the cluster, listed once, whose pods could share a node with them (no
node selector key the two set to different values). What this identity may not read (a
namespaced ServiceAccount cannot read cluster-scoped objects) is not judged: Helm will say.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from .. import yamlio
from ..errors import GunjError
from ..helm.releases import ReleaseStore
from ..kube.errors import ApiError
from ..kube.resources import KNOWN_KINDS
from ..labels import (
    HELM_NAMESPACE_ANNOTATION,
    HELM_RELEASE_ANNOTATION,
    NAMESPACE_LABEL,
    PLATFORM_LABEL,
)

if TYPE_CHECKING:
    from ..helm.charts import ChartLibrary
    from ..helm.client import HelmClient
    from ..kube import ClusterAccess
    from .desired import DesiredRelease

log = logging.getLogger(__name__)

_DAEMONSETS = KNOWN_KINDS[("apps/v1", "DaemonSet")]
_WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})


@dataclass(frozen=True)
class Owner:
    """Who holds an object: a Helm release, or native mode's platform."""

    namespace: str
    release: str | None = None
    platform: str | None = None

    def describe(self) -> str:
        if self.platform and self.release:
            return f"platform {self.namespace}/{self.platform} (release {self.release})"
        if self.platform:
            return f"platform {self.namespace}/{self.platform}"
        if self.release:
            return f"release {self.namespace}/{self.release}"
        return "an owner outside Helm and gunj"


@dataclass(frozen=True)
class Collision:
    what: str
    """The object, or the host port, as a person names it."""
    owner: Owner
    taken_by: str | None = None
    """For a host port: the other's object that takes it."""

    def describe(self) -> str:
        if self.taken_by:
            return f"{self.what} is taken by {self.taken_by} of {self.owner.describe()}"
        return f"{self.what} belongs to {self.owner.describe()}"


@dataclass(frozen=True)
class Candidate:
    """The release being checked: what it may find of its own."""

    name: str
    namespace: str
    platform: str

    def owns(self, obj: Mapping[str, Any]) -> bool:
        metadata = obj.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        labels = metadata.get("labels") or {}
        if annotations.get(HELM_RELEASE_ANNOTATION) is not None:
            return (
                annotations.get(HELM_RELEASE_ANNOTATION) == self.name
                and annotations.get(HELM_NAMESPACE_ANNOTATION) == self.namespace
            )
        return (
            labels.get(PLATFORM_LABEL) == self.platform
            and labels.get(NAMESPACE_LABEL) == self.namespace
        )


def collision_problem(
    access: ClusterAccess,
    helm: HelmClient | None,
    charts: ChartLibrary,
    desired: DesiredRelease,
    platform: str,
) -> str | None:
    """Why ``desired`` (a Helm release of ``platform``) cannot be installed here for what
    another release holds, or None. Without Helm, or when the chart cannot be had or rendered,
    None: the install itself reports why."""
    if desired.mode != "helm" or helm is None:
        return None
    try:
        chart = charts.pull(desired.source, desired.version).reference()
        rendered = helm.template(desired.release, chart, desired.namespace, values=desired.values)
    except GunjError:
        return None
    release = Candidate(desired.release, desired.namespace, platform)
    try:
        documents = list(yamlio.safe_load_all(rendered))
    except yaml.YAMLError:
        return None  # not what Helm would apply either: the install reports it
    objects = [d for d in documents if isinstance(d, dict) and d.get("kind")]
    found = [*cluster_scoped(access, objects, release), *host_ports(access, objects, release)]
    if not found:
        return None
    return (
        f"{desired.component}: release {desired.release} would take what another holds: "
        + "; ".join(c.describe() for c in found)
        + " (uninstall that one, or change this platform's name or settings)"
    )


def cluster_scoped(
    access: ClusterAccess, objects: Iterable[Mapping[str, Any]], release: Candidate
) -> list[Collision]:
    """Each cluster-scoped object of ``objects`` that exists and is another's."""
    found = []
    for obj in objects:
        name = (obj.get("metadata") or {}).get("name")
        try:
            kind = access.resources.kind(str(obj.get("apiVersion")), str(obj["kind"]))
            if kind.namespaced or not name:
                continue
            existing = access.resources.get(kind, None, str(name))
        except ApiError as error:  # not served yet (a CRD it installs), or not ours to read
            log.debug("not checked: %s %s: %s", obj["kind"], name, error)
            continue
        if existing is not None and not release.owns(existing):
            found.append(Collision(f"{obj['kind']} {name}", _owner(access, existing)))
    return found


def host_ports(
    access: ClusterAccess, objects: Iterable[Mapping[str, Any]], release: Candidate
) -> list[Collision]:
    """Each host port ``objects``' pods ask for that another's DaemonSet takes on nodes they
    may share."""
    wanted = [
        (obj, port)
        for obj in objects
        if obj.get("kind") in _WORKLOADS
        for port in taken_host_ports(pod_spec(obj))
    ]
    if not wanted:
        return []
    try:
        daemonsets = access.resources.list(_DAEMONSETS, None)
    except ApiError as error:
        log.debug("host ports not checked: %s", error)
        return []
    found = []
    for other in daemonsets:
        if release.owns(other):
            continue
        taken = set(taken_host_ports(pod_spec(other)))
        for obj, port in wanted:
            if port in taken and may_share_nodes(pod_spec(obj), pod_spec(other)):
                metadata = other.get("metadata") or {}
                what = (
                    f"host port {port[0]}/{port[1]} of {obj['kind']} "
                    f"{(obj.get('metadata') or {}).get('name')}"
                )
                taken_by = f"DaemonSet {metadata.get('namespace')}/{metadata.get('name')}"
                found.append(Collision(what, _owner(access, other), taken_by))
    return found


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Job" or "template" in spec:
        return ((spec.get("template") or {}).get("spec")) or {}
    return spec


def taken_host_ports(pod: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
    """The (port, protocol) pairs a pod takes on its node: each ``hostPort``, and on the host's
    network each container port (the API server sets the host port to it)."""
    on_host = bool(pod.get("hostNetwork"))
    for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        for port in container.get("ports") or []:
            number = port.get("hostPort") or (port.get("containerPort") if on_host else None)
            if isinstance(number, int) and number > 0:
                yield number, str(port.get("protocol") or "TCP")


def may_share_nodes(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether pods of the two may run on one node, as far as their node selectors tell: not
    when they select one label with different values."""
    a, b = one.get("nodeSelector") or {}, other.get("nodeSelector") or {}
    return all(a[key] == b[key] for key in a.keys() & b.keys())


def _owner(access: ClusterAccess, obj: Mapping[str, Any]) -> Owner:
    metadata = obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    release = annotations.get(HELM_RELEASE_ANNOTATION)
    namespace = annotations.get(HELM_NAMESPACE_ANNOTATION) or labels.get(NAMESPACE_LABEL)
    namespace = namespace or metadata.get("namespace") or ""
    platform = labels.get(PLATFORM_LABEL)
    if release and not platform:
        platform = _platform_of_release(access, str(release), str(namespace))
    return Owner(str(namespace), release, platform)


def _platform_of_release(access: ClusterAccess, release: str, namespace: str) -> str | None:
    """The platform that made ``release`` (from its revisions' labels), if gunj did and this
    identity may read them."""
    try:
        history = ReleaseStore(access).revisions(release, namespace)
    except ApiError:
        return None
    for revision in reversed(history):
        if platform := revision.labels.get(PLATFORM_LABEL):
            return platform
    return None

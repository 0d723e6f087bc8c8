"""The cluster's fake nodes, and kwok's hold on them.

kwok takes a node as its own through the node's Lease in ``kube-node-lease``, under an identity
that is new with every kwok process, and it leaves alone a node whose lease another holder renewed
less than a lease duration ago. After an unclean stop (the processes killed, as when a machine's
session ends) the leases still name the dead process: a restarted kwok would then fake nothing,
no pod would become Ready, until they expire. Node conditions do not show it either, since the
controller manager keeps the last reported ``Ready`` for its grace period.

So a start deletes the leases last renewed before it began (nothing of the cluster was running
then, so no live process holds them), and waits until kwok has renewed every node's lease.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime

from kubernetes import client

from ..kube import ClusterAccess
from ..kube.errors import ApiNotFound
from .processes import StartupError

NODE_COUNT = 3
LEASE_NAMESPACE = "kube-node-lease"
# kubelet's own default; kwok renews a quarter of the way through, and comes back for a node it
# could not take after as long.
LEASE_DURATION_SECONDS = 40


def node_names(cluster: str) -> list[str]:
    return [f"{cluster}-node-{index}" for index in range(NODE_COUNT)]


def fake_node(name: str) -> client.V1Node:
    return client.V1Node(
        metadata=client.V1ObjectMeta(
            name=name,
            # kwok's controller manages nodes carrying this annotation.
            annotations={"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            labels={
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        ),
        status=client.V1NodeStatus(
            allocatable={"cpu": "32", "memory": "256Gi", "pods": "110"},
            capacity={"cpu": "32", "memory": "256Gi", "pods": "110"},
        ),
    )


def ensure_nodes(access: ClusterAccess, names: list[str]) -> None:
    existing = {node.metadata.name for node in access.core.list_node().items if node.metadata}
    for name in names:
        if name not in existing:
            access.core.create_node(fake_node(name))


def _leases(access: ClusterAccess) -> dict[str, client.V1Lease]:
    listing = client.CoordinationV1Api(access.api).list_namespaced_lease(LEASE_NAMESPACE)
    return {
        lease.metadata.name: lease
        for lease in listing.items
        if lease.metadata and lease.metadata.name
    }


def _renewed_since(lease: client.V1Lease | None, moment: datetime) -> bool:
    renewed = lease.spec.renew_time if lease and lease.spec else None
    return renewed is not None and renewed >= moment


def release_stale_leases(access: ClusterAccess, names: list[str], started: datetime) -> list[str]:
    """Delete the named nodes' leases last renewed before ``started``; return whose."""
    coordination = client.CoordinationV1Api(access.api)
    released = []
    for name, lease in _leases(access).items():
        if name in names and not _renewed_since(lease, started):
            with contextlib.suppress(ApiNotFound):  # kwok may have replaced it meanwhile
                coordination.delete_namespaced_lease(name, LEASE_NAMESPACE)
            released.append(name)
    return released


def unmanaged(access: ClusterAccess, names: list[str], since: datetime) -> list[str]:
    """The named nodes whose lease kwok has not renewed since ``since``."""
    leases = _leases(access)
    return [name for name in names if not _renewed_since(leases.get(name), since)]


def wait_until_managed(
    access: ClusterAccess, names: list[str], since: datetime, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while pending := unmanaged(access, names, since):
        if time.monotonic() > deadline:
            raise StartupError(
                f"kwok has not taken nodes {', '.join(pending)} within {timeout:.0f}s: "
                "see the kwok-controller log"
            )
        time.sleep(0.5)

"""The pool of static PersistentVolumes the local cluster binds claims to.

The cluster has no storage provisioner (nothing could create disks for pods kwok fakes), so claims
bind only to volumes that exist. The pool keeps a number of Available volumes per storage class;
released volumes are deleted rather than recycled, since nothing would scrub them and a new one
costs only an API object.
"""

from __future__ import annotations

import contextlib
import os

from kubernetes import client

from ..kube import ClusterAccess
from ..kube.errors import ApiNotFound

STORAGE_CLASSES = ("", "standard")
POOL_SIZE = 12
CAPACITY = "100Gi"
POOL_LABEL = "gunj.io/volume-pool"


def ensure_storage_class(access: ClusterAccess) -> None:
    storage = client.StorageV1Api(access.api)
    existing = {item.metadata.name for item in storage.list_storage_class().items if item.metadata}
    if "standard" not in existing:
        storage.create_storage_class(
            client.V1StorageClass(
                metadata=client.V1ObjectMeta(name="standard"),
                provisioner="kubernetes.io/no-provisioner",
                volume_binding_mode="Immediate",
                reclaim_policy="Delete",
            )
        )


def _phase(volume: client.V1PersistentVolume) -> str | None:
    return volume.status.phase if volume.status else None


def _storage_class(volume: client.V1PersistentVolume) -> str:
    return (volume.spec.storage_class_name if volume.spec else None) or ""


def replenish(access: ClusterAccess, per_class: int = POOL_SIZE) -> int:
    """Keep ``per_class`` Available volumes in each class; return how many were created."""
    core = access.core
    volumes = core.list_persistent_volume(label_selector=POOL_LABEL).items
    for volume in volumes:
        if _phase(volume) in {"Released", "Failed"} and volume.metadata and volume.metadata.name:
            # Gone already: the volume keeper, or another test.
            with contextlib.suppress(ApiNotFound):
                core.delete_persistent_volume(volume.metadata.name)
    created = 0
    for storage_class in STORAGE_CLASSES:
        available = [
            volume
            for volume in volumes
            if _phase(volume) in {None, "Pending", "Available"}
            and _storage_class(volume) == storage_class
        ]
        for _ in range(per_class - len(available)):
            core.create_persistent_volume(_pool_volume(storage_class))
            created += 1
    return created


def _pool_volume(storage_class: str) -> client.V1PersistentVolume:
    name = f"pool-{storage_class or 'default'}-{os.urandom(4).hex()}"
    return client.V1PersistentVolume(
        metadata=client.V1ObjectMeta(name=name, labels={POOL_LABEL: "true"}),
        spec=client.V1PersistentVolumeSpec(
            capacity={"storage": CAPACITY},
            access_modes=["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"],
            persistent_volume_reclaim_policy="Retain",
            storage_class_name=storage_class,
            # Nothing mounts it (kwok fakes the pods); the path only satisfies validation.
            host_path=client.V1HostPathVolumeSource(path=f"/var/lib/gunj/volumes/{name}"),
        ),
    )

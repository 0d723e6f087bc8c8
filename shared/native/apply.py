"""Applying native mode's objects: server-side apply with field manager ``gunj`` (the API server
checks every object against its OpenAPI schema: a field it does not know is an error), never on
an object a Helm release owns, and pruning of what the component owned and no longer renders,
found by its labels (never by guessing from names).

Each object carries ``gunj.io/platform``, ``gunj.io/component`` and ``gunj.io/native: "true"``;
those labels are how the component's objects are found again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException

from ..errors import GunjError
from ..kube import ClusterAccess

FIELD_MANAGER = "gunj"
NATIVE_LABEL = "gunj.io/native"
PLATFORM_LABEL = "gunj.io/platform"
COMPONENT_LABEL = "gunj.io/component"
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
# What native mode renders, and so what pruning looks at (namespaced, then cluster-scoped).
PRUNABLE = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "ServiceAccount"),
    ("v1", "Secret"),
    ("v1", "PersistentVolumeClaim"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("networking.k8s.io/v1", "Ingress"),
)
_CLIENTS: dict[int, Any] = {}
_LOCK = threading.Lock()


class OwnedByHelm(GunjError):
    """An object native mode would write is a Helm release's: native mode does not take it."""


class ApplyFailed(GunjError):
    """The API server refused an object (invalid, conflicting, forbidden)."""


@dataclass(frozen=True)
class ObjectKey:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def key_of(obj: dict[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return ObjectKey(obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"])


def dynamic(access: ClusterAccess) -> Any:
    """A dynamic client per API client (discovery is done once)."""
    from kubernetes.dynamic import DynamicClient

    with _LOCK:
        key = id(access.api)
        if key not in _CLIENTS:
            _CLIENTS[key] = DynamicClient(access.api)  # type: ignore[no-untyped-call]
        return _CLIENTS[key]


def _resource(access: ClusterAccess, api_version: str, kind: str) -> Any:
    return dynamic(access).resources.get(api_version=api_version, kind=kind)


def _current(access: ClusterAccess, key: ObjectKey) -> Any | None:
    resource = _resource(access, key.api_version, key.kind)
    try:
        return resource.get(name=key.name, namespace=key.namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    except Exception as error:  # the dynamic client's own NotFoundError
        if type(error).__name__ == "NotFoundError":
            return None
        raise


def helm_owner(obj: Any) -> str | None:
    """The Helm release that owns an existing object, if any."""
    metadata = obj.metadata
    annotations = dict(metadata.annotations or {}) if metadata else {}
    labels = dict(metadata.labels or {}) if metadata else {}
    if annotations.get(HELM_RELEASE_ANNOTATION):
        return str(annotations[HELM_RELEASE_ANNOTATION])
    if labels.get("app.kubernetes.io/managed-by") == "Helm":
        return str(labels.get("app.kubernetes.io/instance", "a Helm release"))
    return None


def apply_objects(
    access: ClusterAccess, objects: Iterable[dict[str, Any]], *, leave_to: str | None = None
) -> list[ObjectKey]:
    """Server-side apply each object; OwnedByHelm before touching any object a Helm release
    owns, except that objects of the Helm release ``leave_to`` (the same component's Helm form,
    during a switch) are left to it and not applied; ApplyFailed (permanent) or the API error
    (transient) otherwise. Returns what was applied."""
    objects = list(objects)
    left = set()
    for obj in objects:
        existing = _current(access, key_of(obj))
        owner = helm_owner(existing) if existing is not None else None
        if owner is not None and owner == leave_to:
            left.add(key_of(obj))
        elif owner is not None:
            raise OwnedByHelm(
                f"{key_of(obj).describe()} belongs to the Helm release {owner}; native mode "
                "does not take over what Helm manages"
            )
    applied = []
    for obj in objects:
        if key_of(obj) in left:
            continue
        key = key_of(obj)
        resource = _resource(access, key.api_version, key.kind)
        try:
            resource.server_side_apply(
                body=obj,
                name=key.name,
                namespace=key.namespace,
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
            )
        except ApiException as error:
            if (error.status or 0) >= 500 or error.status in {408, 429}:
                raise
            raise ApplyFailed(f"{key.describe()}: {error.status} {error.reason}") from None
        except Exception as error:  # the dynamic client's own errors carry a status too
            status = getattr(error, "status", 0) or 0
            if status >= 500 or status in {0, 408, 429}:
                raise
            detail = error.summary() if hasattr(error, "summary") else str(error)
            raise ApplyFailed(f"{key.describe()}: {status}: {detail}") from None
        applied.append(key)
    return applied


def owned(access: ClusterAccess, namespace: str, platform: str, component: str) -> list[ObjectKey]:
    """Every object native mode made for the component, found by its labels."""
    selector = f"{NATIVE_LABEL}=true,{PLATFORM_LABEL}={platform},{COMPONENT_LABEL}={component}"
    found = []
    for api_version, kind in PRUNABLE:
        resource = _resource(access, api_version, kind)
        listed = resource.get(
            namespace=namespace if resource.namespaced else None, label_selector=selector
        )
        for item in listed.items:
            metadata = item.metadata
            # Cluster-scoped objects name their platform's namespace in a label too.
            if not resource.namespaced and (metadata.labels or {}).get("gunj.io/namespace") not in {
                namespace,
                None,
            }:
                continue
            found.append(ObjectKey(api_version, kind, metadata.namespace or None, metadata.name))
    return found


def delete_objects(access: ClusterAccess, keys: Iterable[ObjectKey]) -> list[ObjectKey]:
    deleted = []
    for key in keys:
        resource = _resource(access, key.api_version, key.kind)
        try:
            resource.delete(name=key.name, namespace=key.namespace)
            deleted.append(key)
        except Exception as error:  # gone already is what was wanted
            if getattr(error, "status", None) != 404:
                raise
    return deleted


def prune(
    access: ClusterAccess,
    namespace: str,
    platform: str,
    component: str,
    keep: Iterable[ObjectKey],
) -> list[ObjectKey]:
    """Delete what the component owned and no longer renders."""
    kept = {(k.api_version, k.kind, k.namespace, k.name) for k in keep}
    stale = [
        key
        for key in owned(access, namespace, platform, component)
        if (key.api_version, key.kind, key.namespace, key.name) not in kept
    ]
    return delete_objects(access, stale)

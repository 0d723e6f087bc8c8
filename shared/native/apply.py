"""Applying native mode's objects: server-side apply with field manager ``gunj`` (the API server
checks every object against its OpenAPI schema: a field it does not know is an error), never on
an object a Helm release owns, and pruning of what the component owned and no longer renders,
found by its labels (never by guessing from names).

Each object carries ``gunj.io/platform``, ``gunj.io/component`` and ``gunj.io/native: "true"``;
those labels are how the component's objects are found again. Cluster-scoped objects also carry
``gunj.io/namespace``: the same platform name may exist in several namespaces.

An object that exists already is applied over only when it is the same platform's (its labels
name the same platform, in the same namespace): another platform's object, or one gunj did not
make, is refused naming its owner, before anything is applied.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from ..errors import GunjError
from ..kube import ClusterAccess
from ..kube.errors import ApiError, ApiNotFound, ApiUnavailable
from ..kube.keys import ObjectKey
from ..labels import (
    COMPONENT_LABEL,
    HELM_RELEASE_ANNOTATION,
    NAMESPACE_LABEL,
    NATIVE_LABEL,
    PLATFORM_LABEL,
)

FIELD_MANAGER = "gunj"
# What native mode renders, and so what pruning looks at (namespaced, then cluster-scoped).
# Only kinds the renderers write: never a StatefulSet's PersistentVolumeClaims, which its
# controller makes from the claim template, labels included, and which hold the component's
# data. They are left behind on uninstall too, as Helm leaves them.
PRUNABLE = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "ServiceAccount"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("networking.k8s.io/v1", "Ingress"),
)


class OwnedByHelm(GunjError):
    """An object native mode would write is a Helm release's: native mode does not take it."""


class OwnedElsewhere(GunjError):
    """An object native mode would write exists and is not this platform's: another platform's,
    or one gunj did not make. Native mode does not take it."""


class ApplyFailed(GunjError):
    """The API server refused an object (invalid, conflicting, forbidden)."""


def key_of(obj: dict[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return ObjectKey(obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"])


def _resource(access: ClusterAccess, api_version: str, kind: str) -> Any:
    return access.dynamic.resources.get(api_version=api_version, kind=kind)


def _current(access: ClusterAccess, key: ObjectKey) -> Any | None:
    resource = _resource(access, key.api_version, key.kind)
    try:
        return resource.get(name=key.name, namespace=key.namespace)
    except ApiNotFound:
        return None
    except ApiError as error:
        raise error.doing(f"reading {key.where()}") from None


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


def _platform_of(labels: dict[str, str], namespace: str | None) -> tuple[str, str] | None:
    """(namespace, platform) of a native object, from its labels (None: not a native one)."""
    if labels.get(NATIVE_LABEL) != "true" or not labels.get(PLATFORM_LABEL):
        return None
    return labels.get(NAMESPACE_LABEL) or namespace or "", labels[PLATFORM_LABEL]


def foreign_owner(existing: Any, wanted: dict[str, Any]) -> str | None:
    """Who holds ``existing`` when it is not the platform's that ``wanted`` is rendered for:
    ``platform ns/name``, or a description of an object gunj did not make (None: ours)."""
    metadata = wanted.get("metadata") or {}
    ours = _platform_of(dict(metadata.get("labels") or {}), metadata.get("namespace"))
    found = existing.metadata
    theirs = _platform_of(
        dict(found.labels or {}) if found else {}, found.namespace if found else None
    )
    if theirs == ours:
        return None
    if theirs is None:
        return "no platform of gunj's (gunj did not make it)"
    return f"platform {theirs[0]}/{theirs[1]}"


def apply_objects(
    access: ClusterAccess, objects: Iterable[dict[str, Any]], *, leave_to: str | None = None
) -> list[ObjectKey]:
    """Server-side apply each object; OwnedByHelm before touching any object a Helm release
    owns, except that objects of the Helm release ``leave_to`` (the same component's Helm form,
    during a switch) are left to it and not applied; ApplyFailed (permanent) or the API error
    (transient: ApiUnavailable) otherwise. Returns what was applied."""
    objects = list(objects)
    left = set()
    for obj in objects:
        existing = _current(access, key_of(obj))
        owner = helm_owner(existing) if existing is not None else None
        if owner is not None and owner == leave_to:
            left.add(key_of(obj))
        elif owner is not None:
            raise OwnedByHelm(
                f"{key_of(obj).where()} belongs to the Helm release {owner}; native mode "
                "does not take over what Helm manages"
            )
        elif existing is not None and (holder := foreign_owner(existing, obj)) is not None:
            raise OwnedElsewhere(
                f"{key_of(obj).where()} exists and belongs to {holder}; native mode does not "
                "take over objects it did not make for this platform"
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
        except ApiUnavailable as error:
            raise error.doing(f"applying {key.where()}") from None
        except ApiError as error:
            raise ApplyFailed(f"{key.where()}: {error.status} {error.reason}") from None
        applied.append(key)
    return applied


def owned(access: ClusterAccess, namespace: str, platform: str, component: str) -> list[ObjectKey]:
    """Every object native mode made for the component, found by its labels."""
    selector = f"{NATIVE_LABEL}=true,{PLATFORM_LABEL}={platform},{COMPONENT_LABEL}={component}"
    found = []
    for api_version, kind in PRUNABLE:
        resource = _resource(access, api_version, kind)
        if resource.namespaced:
            listed = resource.get(namespace=namespace, label_selector=selector)
        else:
            listed = resource.get(label_selector=f"{selector},{NAMESPACE_LABEL}={namespace}")
        for item in listed.items:
            metadata = item.metadata
            found.append(ObjectKey(api_version, kind, metadata.namespace or None, metadata.name))
    return found


def delete_objects(access: ClusterAccess, keys: Iterable[ObjectKey]) -> list[ObjectKey]:
    deleted = []
    for key in keys:
        resource = _resource(access, key.api_version, key.kind)
        with contextlib.suppress(ApiNotFound):  # gone already is what was wanted
            resource.delete(name=key.name, namespace=key.namespace)
            deleted.append(key)
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

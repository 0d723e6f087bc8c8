"""The ObservabilityPlatform custom resource in a target cluster: its CRD installed when missing
(server-side apply, field manager ``gunj``), the object created or updated from the spec, and its
status written through the status subresource.

The spec's generation, as the publisher numbers it (the message's ``generation`` attribute), is
kept in the annotation :data:`GENERATION_ANNOTATION`; the API server's own
``metadata.generation`` counts changes of the stored spec and becomes ``observedGeneration``.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from ..kube import ClusterAccess
from ..kube.errors import ApiNotFound
from ..kube.resources import Kind
from ..labels import GENERATION_ANNOTATION, SOURCE_ANNOTATION
from ..values.crd import CRD_NAME, GROUP, PLURAL, VERSION, crd_digest, crd_manifest, schema_digest
from ..values.spec import ObservabilityPlatform
from ..values.spec.platform import API_VERSION, KIND
from ..values.spec.status import PlatformStatus, UpgradeSummary

FIELD_MANAGER = "gunj"
APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"
PLATFORMS = Kind(API_VERSION, KIND, PLURAL, namespaced=True)
CRDS = Kind(
    "apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False
)
# Which clusters have the current CRD, in this process (a warm function skips the check).
_CRD_CURRENT: set[tuple[str, str | None]] = set()
_CRD_LOCK = threading.Lock()


@dataclass(frozen=True)
class StoredPlatform:
    """The object as the cluster has it."""

    name: str
    namespace: str
    uid: str
    generation: int
    published_generation: int | None
    spec: dict[str, Any]
    status: PlatformStatus
    deleting: bool


def platform_of(stored: StoredPlatform) -> ObservabilityPlatform:
    """The platform as the cluster stores it."""
    return ObservabilityPlatform.model_validate(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": stored.name, "namespace": stored.namespace},
            "spec": stored.spec,
        }
    )


def ensure_crd(access: ClusterAccess) -> bool:
    """Apply the CRD when the cluster lacks it or has another version of it; True if applied.

    The served CRD is read as JSON and compared by digest (:func:`~shared.values.crd.schema_digest`)
    with the one generated beside the checked-in CRD: the typed client's CRD models and the
    CRD's YAML would cost a cold process more than the request itself."""
    key = (str(access.kubeconfig), access.context)
    if key in _CRD_CURRENT:
        return False
    with _CRD_LOCK:
        served = access.resources.get(CRDS, None, CRD_NAME)
        spec = (served or {}).get("spec") or {}
        if spec.get("versions") and schema_digest(spec) == crd_digest():
            _CRD_CURRENT.add(key)
            return False
        access.resources.apply(CRDS, None, crd_manifest(), manager=FIELD_MANAGER)
        _wait_established(access)
        _CRD_CURRENT.add(key)
        return True


def _wait_established(access: ClusterAccess, attempts: int = 100) -> None:
    import time

    for _ in range(attempts):
        crd = access.resources.get(CRDS, None, CRD_NAME) or {}
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
            return
        time.sleep(0.1)


def _dict(value: object) -> dict[str, Any]:
    """The client returns custom objects as untyped JSON."""
    return value if isinstance(value, dict) else {}


def _stored(obj: dict[str, Any]) -> StoredPlatform:
    metadata = obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    published = annotations.get(GENERATION_ANNOTATION)
    return StoredPlatform(
        name=metadata.get("name", ""),
        namespace=metadata.get("namespace", ""),
        uid=metadata.get("uid", ""),
        generation=int(str(metadata.get("generation") or 0)),
        published_generation=int(str(published)) if str(published or "").isdigit() else None,
        spec=obj.get("spec") or {},
        status=PlatformStatus.model_validate(obj.get("status") or {}),
        deleting=bool(metadata.get("deletionTimestamp")),
    )


def read_platform(
    access: ClusterAccess, namespace: str, name: str, *, cached: bool = False
) -> StoredPlatform | None:
    """The platform as the cluster has it (``cached``: from the API server's watch cache, as a
    look that acts on nothing reads it), or None."""
    obj = access.resources.get(PLATFORMS, namespace, name, cached=cached)
    return _stored(obj) if obj is not None else None


def list_platforms(access: ClusterAccess, namespace: str | None = None) -> list[StoredPlatform]:
    try:
        if namespace:
            answer = access.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        else:
            answer = access.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    except ApiNotFound:  # no CRD: no platforms
        return []
    return [_stored(item) for item in _dict(answer).get("items") or []]


def apply_platform(
    access: ClusterAccess,
    platform: ObservabilityPlatform,
    *,
    generation: int | None,
    source: str | None,
) -> StoredPlatform:
    """Create or update the object's spec (server-side apply: gunj owns the fields it sets)."""
    manifest = platform.manifest()
    metadata = manifest.setdefault("metadata", {})
    metadata.pop("generation", None)
    annotations = dict(metadata.get("annotations") or {})
    if generation is not None:
        annotations[GENERATION_ANNOTATION] = str(generation)
    if source:
        annotations[SOURCE_ANNOTATION] = source[:256]
    metadata["annotations"] = annotations
    manifest["apiVersion"], manifest["kind"] = API_VERSION, KIND
    obj = access.custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        platform.metadata.namespace,
        PLURAL,
        platform.metadata.name,
        manifest,
        field_manager=FIELD_MANAGER,
        force=True,
        _content_type=APPLY,
    )
    if not isinstance(obj, dict) or not obj.get("metadata"):
        # The client does not decode the body of a 201 (the apply created the object).
        created = read_platform(access, platform.metadata.namespace, platform.metadata.name)
        if created is None:
            raise RuntimeError(f"{platform.metadata.name} vanished right after it was applied")
        return created
    return _stored(obj)


def write_status(access: ClusterAccess, namespace: str, name: str, status: PlatformStatus) -> None:
    """Replace the whole status (a merge patch could not drop a component that is gone)."""
    _replace_status(access, namespace, name, "/status", status)


def write_observed(access: ClusterAccess, namespace: str, name: str, when: datetime) -> None:
    """Record when the platform was last looked at, and nothing else."""
    _set_status(access, namespace, name, "/status/observedAt", when.isoformat())


def write_upgrades(
    access: ClusterAccess, namespace: str, name: str, upgrades: UpgradeSummary
) -> None:
    """Replace only the status's upgrade summary (the reconcile owns the rest)."""
    _replace_status(access, namespace, name, "/status/upgrades", upgrades)


def _replace_status(
    access: ClusterAccess, namespace: str, name: str, path: str, model: BaseModel
) -> None:
    value = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    _set_status(access, namespace, name, path, value)


def _set_status(access: ClusterAccess, namespace: str, name: str, path: str, value: Any) -> None:
    access.custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        name,
        [{"op": "add", "path": path, "value": value}],
        _content_type=JSON_PATCH,
    )


def delete_platform(access: ClusterAccess, namespace: str, name: str) -> None:
    with contextlib.suppress(ApiNotFound):  # gone already
        access.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)

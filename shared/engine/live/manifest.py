"""The objects a release's current revision holds, as its manager would apply them: parsed from
the stored manifest once per revision, each in its namespace, with what Helm adds at apply time
(its managed-by label and release annotations) and the protocol a port leaves to its default
written out (server-side apply keys ports by number and protocol)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ... import yamlio
from ...kube.keys import ObjectKey
from ...labels import APP_MANAGED_BY_LABEL, HELM_NAMESPACE_ANNOTATION, HELM_RELEASE_ANNOTATION

HELM_MANAGER = "helm"
"""The field manager Helm 3 and Helm 4 write as (the binary's name)."""
NATIVE_MANAGER = "gunj"
"""The field manager native mode applies as."""
_CACHED = 64
_PODS_AT = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True)
class DesiredObject:
    key: ObjectKey
    body: Mapping[str, Any] = field(repr=False)
    """What the release's manager applies."""
    fingerprint: str
    """The digest of ``body``: the same object asked for the same way."""


def _with_port_protocols(body: dict[str, Any]) -> None:
    """A port without a protocol is TCP; written out, so an apply keys it as the server
    does."""
    containers: list[Any] = []
    node: Any = body
    for step in _PODS_AT.get(str(body.get("kind")), ()):
        node = node.get(step) if isinstance(node, dict) else None
    if isinstance(node, dict):
        containers = [*(node.get("containers") or []), *(node.get("initContainers") or [])]
    ports = [p for c in containers if isinstance(c, dict) for p in c.get("ports") or []]
    if body.get("kind") == "Service":
        ports = list((body.get("spec") or {}).get("ports") or [])
    for port in ports:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def _secret_strings_as_data(body: dict[str, Any]) -> None:
    if body.get("kind") != "Secret" or not isinstance(body.get("stringData"), dict):
        return
    data = dict(body.get("data") or {})
    for key, value in body.pop("stringData").items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    body["data"] = data


def parse(
    manifest: str,
    namespace: str,
    namespaced: Any,
    *,
    helm_release: str | None,
) -> list[DesiredObject]:
    """The objects of ``manifest`` (``namespaced(api_version, kind)`` says whether a kind is
    namespaced, None when the cluster serves no such kind: those are left out). With
    ``helm_release``, Helm's metadata is added as Helm adds it."""
    found: list[DesiredObject] = []
    for document in yamlio.safe_load_all(manifest):
        items = document.get("items") if isinstance(document, dict) else None
        for item in items if isinstance(items, list) else [document]:
            if not isinstance(item, dict) or not item.get("kind") or not item.get("metadata"):
                continue
            body = copy.deepcopy(item)
            body.pop("status", None)
            metadata = body["metadata"]
            metadata.pop("creationTimestamp", None)
            scoped = namespaced(str(body.get("apiVersion", "")), str(body["kind"]))
            if scoped is None:
                continue
            object_namespace = (metadata.get("namespace") or namespace) if scoped else None
            if scoped:
                metadata["namespace"] = object_namespace
            if helm_release is not None:
                metadata["labels"] = {
                    **(metadata.get("labels") or {}),
                    APP_MANAGED_BY_LABEL: "Helm",
                }
                metadata["annotations"] = {
                    **(metadata.get("annotations") or {}),
                    HELM_RELEASE_ANNOTATION: helm_release,
                    HELM_NAMESPACE_ANNOTATION: namespace,
                }
            _with_port_protocols(body)
            _secret_strings_as_data(body)
            key = ObjectKey(
                str(body["apiVersion"]), str(body["kind"]), object_namespace, str(metadata["name"])
            )
            text = json.dumps(body, sort_keys=True, default=str).encode()
            found.append(DesiredObject(key, body, hashlib.sha256(text).hexdigest()[:24]))
    return found


class ManifestCache:
    """Parsed revisions, so a look at an unchanged release parses nothing."""

    def __init__(self) -> None:
        self._parsed: OrderedDict[tuple[str, ...], list[DesiredObject]] = OrderedDict()
        self._lock = threading.Lock()

    def objects(
        self,
        revision_id: tuple[str, ...],
        manifest: Callable[[], str],
        namespace: str,
        namespaced: Any,
        *,
        helm_release: str | None,
    ) -> list[DesiredObject]:
        with self._lock:
            if revision_id in self._parsed:
                self._parsed.move_to_end(revision_id)
                return self._parsed[revision_id]
        parsed = parse(manifest(), namespace, namespaced, helm_release=helm_release)
        with self._lock:
            self._parsed[revision_id] = parsed
            while len(self._parsed) > _CACHED:
                self._parsed.popitem(last=False)
        return parsed

"""Objects of any kind as plain JSON: where a kind lives in the API (its plural, whether it is
namespaced), and lists, reads and server-side applies through the typed API client without its
generated models. Decoding a list into the client's models costs more than the request itself;
the live check of a platform reads every kind its releases hold on each look, so it reads JSON.

A kind gunj knows is looked up in a table; any other (a chart's custom resource) is found once
per cluster through the API server's discovery of its group and version.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from .errors import ApiError, ApiNotFound

APPLY = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Kind:
    """Where objects of one kind live in the API."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = (
            f"/api/{self.api_version}"
            if "/" not in self.api_version
            else (f"/apis/{self.api_version}")
        )
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


_KNOWN = [
    Kind("v1", "ConfigMap", "configmaps", True),
    Kind("v1", "Secret", "secrets", True),
    Kind("v1", "Service", "services", True),
    Kind("v1", "ServiceAccount", "serviceaccounts", True),
    Kind("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
    Kind("v1", "Pod", "pods", True),
    Kind("apps/v1", "Deployment", "deployments", True),
    Kind("apps/v1", "StatefulSet", "statefulsets", True),
    Kind("apps/v1", "DaemonSet", "daemonsets", True),
    Kind("batch/v1", "Job", "jobs", True),
    Kind("batch/v1", "CronJob", "cronjobs", True),
    Kind("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    Kind("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    Kind("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    Kind("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    Kind("networking.k8s.io/v1", "Ingress", "ingresses", True),
    Kind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True),
    Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
    Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True),
]
KNOWN_KINDS: Mapping[tuple[str, str], Kind] = {(k.api_version, k.kind): k for k in _KNOWN}


class UnknownKind(ApiError):
    """The API server serves no such kind."""


class Resources:
    """JSON requests to one cluster, through its typed API client."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self._discovered: dict[tuple[str, str], Kind] = {}
        self._lock = threading.Lock()

    def kind(self, api_version: str, kind: str) -> Kind:
        """Where ``kind`` of ``api_version`` lives; UnknownKind when the cluster serves none."""
        known = KNOWN_KINDS.get((api_version, kind)) or self._discovered.get((api_version, kind))
        if known is not None:
            return known
        group = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        try:
            listing = self.request("GET", group)
        except ApiNotFound:
            listing = {}
        for resource in listing.get("resources") or []:
            if resource.get("kind") == kind and "/" not in str(resource.get("name", "")):
                found = Kind(api_version, kind, resource["name"], bool(resource["namespaced"]))
                with self._lock:
                    self._discovered[(api_version, kind)] = found
                return found
        raise UnknownKind(f"the API server serves no {kind} in {api_version}", status=404)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """One request; its answer decoded from JSON. Failures are typed (:mod:`.errors`)."""
        serialized = self.api.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*serialized)
        response.read()  # type: ignore[no-untyped-call]
        if not 200 <= response.status <= 299:
            self.api.response_deserialize(response, {})  # raises the typed error
        return json.loads(response.data) if response.data else {}

    def list(
        self, kind: Kind, namespace: str | None, selector: str = "", *, cached: bool = False
    ) -> list[dict[str, Any]]:
        """Every object of ``kind`` (in ``namespace``, if namespaced) that ``selector`` selects,
        as they are now (a consistent read: an object deleted a moment ago is not listed); with
        ``cached``, from the API server's watch cache at once (possibly a moment old), where a
        consistent list may first wait for the cache to catch up."""
        query: list[tuple[str, str]] = [("resourceVersion", "0")] if cached else []
        if selector:
            query.append(("labelSelector", selector))
        answer = self.request("GET", kind.path(namespace), query=query)
        items: list[dict[str, Any]] = answer.get("items") or []
        for item in items:  # a list's items leave their kind to the list
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.kind)
        return items

    def get(
        self, kind: Kind, namespace: str | None, name: str, *, cached: bool = False
    ) -> dict[str, Any] | None:
        """The object, or None when there is none (``cached``: from the watch cache, as
        :meth:`list`)."""
        query = [("resourceVersion", "0")] if cached else []
        try:
            found: dict[str, Any] = self.request("GET", kind.path(namespace, name), query=query)
        except ApiNotFound:
            return None
        return found

    def create(self, kind: Kind, namespace: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create ``body``; ApiConflict when an object of its name is there already."""
        # A JSON body is serialised by the client (a string would be sent as a JSON string).
        answer: dict[str, Any] = self.request("POST", kind.path(namespace), body=dict(body))
        return answer

    def delete(self, kind: Kind, namespace: str | None, name: str) -> None:
        """Delete the object (its dependents in the background, as the API server's default
        for most kinds); ApiNotFound when there is none."""
        self.request("DELETE", kind.path(namespace, name))

    def apply(
        self,
        kind: Kind,
        namespace: str | None,
        body: Mapping[str, Any],
        *,
        manager: str,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Server-side apply ``body`` as ``manager``, taking the fields it sets from any other
        manager (``force``); ``dry_run``: only what the object would be."""
        query = [("fieldManager", manager), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        name = str(body["metadata"]["name"])
        answer: dict[str, Any] = self.request(
            "PATCH",
            kind.path(namespace, name),
            query=query,
            body=json.dumps(body),
            content_type=APPLY,
        )
        return answer

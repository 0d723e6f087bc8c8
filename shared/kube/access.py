"""One target cluster: an API client built from an explicit kubeconfig file and context, and the
few namespace-level operations every part of the engine needs.

The kubeconfig is always named: the official client would otherwise fall back to ``KUBECONFIG``
or ``~/.kube/config`` of whoever runs gunj, and act on a cluster nobody asked for. An access may
impersonate a user (:meth:`ClusterAccess.as_user`), so that the cluster's RBAC judges each request
by that user's rights.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from kubernetes import client, config

from .client import TypedApiClient
from .errors import ApiConflict, ApiNotFound, KubeconfigUnusable
from .resources import Kind, Resources

NAMESPACES = Kind("v1", "Namespace", "namespaces", namespaced=False)


@dataclass
class ClusterAccess:
    kubeconfig: Path
    context: str | None = None
    acting_as: str | None = None
    """The user every request impersonates (a platform's ServiceAccount, as
    ``system:serviceaccount:<namespace>:<name>``); None: the kubeconfig's own."""
    _api: client.ApiClient | None = field(default=None, init=False, repr=False)

    @property
    def api(self) -> client.ApiClient:
        """The API client; its failures are typed (:mod:`.errors`)."""
        if self._api is None:
            configuration = client.Configuration()
            try:
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=str(self.kubeconfig),
                    context=self.context,
                    client_configuration=configuration,
                )
            except (config.ConfigException, OSError, ValueError) as error:
                raise KubeconfigUnusable(
                    f"the kubeconfig {self.kubeconfig} (context {self.context or 'current'}) "
                    f"cannot be used: {type(error).__name__}"
                ) from None
            api = TypedApiClient(configuration)
            if self.acting_as is not None:
                # The API server adds a ServiceAccount's groups itself when none are given.
                api.set_default_header("Impersonate-User", self.acting_as)  # type: ignore[no-untyped-call]
            self._api = api
        return self._api

    def as_user(self, user: str) -> ClusterAccess:
        """The same cluster, every request impersonating ``user``."""
        return ClusterAccess(self.kubeconfig, self.context, acting_as=user)

    @cached_property
    def resources(self) -> Resources:
        """Objects of any kind as JSON (:mod:`.resources`): the live check's reads."""
        return Resources(self.api)

    @cached_property
    def dynamic(self) -> Any:
        """A dynamic client (``kubernetes.dynamic``), made once per cluster: it reads the API
        server's discovery documents when made, which is too slow to repeat per object."""
        from kubernetes.dynamic import DynamicClient

        return DynamicClient(self.api)  # type: ignore[no-untyped-call]

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    @property
    def coordination(self) -> client.CoordinationV1Api:
        return client.CoordinationV1Api(self.api)

    @property
    def extensions(self) -> client.ApiextensionsV1Api:
        return client.ApiextensionsV1Api(self.api)

    @property
    def discovery(self) -> client.DiscoveryV1Api:
        return client.DiscoveryV1Api(self.api)

    # The namespace operations every reconcile starts with are plain JSON requests: the typed
    # CoreV1Api and its models take most of a second to import, which a cold function's first
    # event would pay for one request.
    def ensure_namespace(self, name: str, labels: dict[str, str] | None = None) -> None:
        metadata: dict[str, Any] = {"name": name, "labels": dict(labels or {})}
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
        with contextlib.suppress(ApiConflict):  # there already
            self.resources.create(NAMESPACES, None, body)

    def delete_namespace(self, name: str) -> None:
        with contextlib.suppress(ApiNotFound):  # gone already
            self.resources.delete(NAMESPACES, None, name)

    def pods(self, namespace: str, selector: str = "") -> list[Any]:
        items: list[Any] = self.core.list_namespaced_pod(namespace, label_selector=selector).items
        return items

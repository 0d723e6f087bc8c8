"""A GKE cluster reached with the function's own identity: its endpoint and CA certificate from
the GKE API, and an OAuth access token of the application default credentials as the bearer
token of a kubeconfig written for the connection (private, 0600).

Why the REST API through google-auth's ``AuthorizedSession`` and not ``google-cloud-container``:
the registry needs one read-only call (``projects.locations.clusters.get``) and three fields of
its answer. google-auth and requests are already dependencies (Pub/Sub, Kubernetes); the
generated client would add a package, its protobuf types and their import time to every cold
start for that one call. The REST call also asks only for the fields it uses (``fields=``), so
legacy basic-auth credentials a cluster may still carry in ``masterAuth`` never reach the
function. Its address is a field of ``GoogleCloud``, which lets tests serve a fake GKE API on
127.0.0.1 beside the real-cluster tests.

Why not an exec-plugin kubeconfig: ``gke-gcloud-auth-plugin`` is not installed in a Cloud
Function, and the token it would fetch is the same one the function already holds.

Endpoints: ``public`` (the default) is the cluster's public IP, ``private`` its private IP (the
function needs a VPC connector), ``dns`` its DNS-based endpoint, which presents a publicly
trusted certificate (so no cluster CA is pinned) and is reachable without a VPC. The identity
needs ``container.clusters.get`` on the cluster's project, and Kubernetes RBAC in the cluster.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from .connection import ClusterConnection
from .errors import ClusterConnectError
from .google import GoogleCloud, connect_error
from .kubeconfig import PrivateKubeconfig, bearer

ENDPOINTS = ("public", "private", "dns")
_FIELDS = ",".join(
    (
        "endpoint",
        "status",
        "masterAuth.clusterCaCertificate",
        "privateClusterConfig.privateEndpoint",
        "controlPlaneEndpointsConfig.ipEndpointsConfig.privateEndpoint",
        "controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint",
    )
)
# Statuses in which the API server may answer (RECONCILING: an upgrade or repair in progress).
_SERVING = {"RUNNING", "RECONCILING", "DEGRADED"}


@dataclass(frozen=True)
class GkeCluster:
    kind: ClassVar[str] = "gke"
    project: str
    location: str
    cluster: str
    endpoint: str = "public"

    @property
    def resource(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/clusters/{self.cluster}"

    def describe(self) -> str:
        endpoint = "" if self.endpoint == "public" else f" ({self.endpoint} endpoint)"
        return f"{self.resource}{endpoint}"

    def connect(self, cluster: str, cloud: GoogleCloud) -> ClusterConnection:
        description = _describe(self, cluster, cloud)
        server, ca_data = _server(self, cluster, description)
        credentials = cloud.credentials(cluster)
        token = getattr(credentials, "token", None)
        if not isinstance(token, str) or not token:
            raise ClusterConnectError(
                cluster, "Google credentials gave no access token", transient=True
            )
        content = bearer(cluster, server, ca_data, token)
        private = PrivateKubeconfig(content, cluster)
        return ClusterConnection(
            name=cluster,
            kubeconfig=private.path,
            context=cluster,
            secrets=(token,),
            documents=(content,),
            expires=_expiry(credentials),
            _private=private,
        )


def _describe(target: GkeCluster, cluster: str, cloud: GoogleCloud) -> dict[str, Any]:
    from google.auth.transport.requests import AuthorizedSession

    url = f"{cloud.container_api.rstrip('/')}/v1/{target.resource}"
    doing = f"looking up GKE cluster {target.resource}"
    with AuthorizedSession(cloud.credentials(cluster)) as session:  # type: ignore[no-untyped-call]
        try:
            response = session.get(url, params={"fields": _FIELDS}, timeout=cloud.timeout)
        except Exception as error:
            raise connect_error(cluster, doing, error) from None
    status = response.status_code
    if status == 200:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            return body
        raise ClusterConnectError(cluster, f"{doing}: the GKE API answered with no cluster")
    message = _api_message(response)
    if status in {408, 429} or status >= 500:
        raise ClusterConnectError(
            cluster, f"{doing}: GKE API {status}: {message} (will retry)", transient=True
        )
    hint = {
        403: f" (the function's identity needs container.clusters.get on project "
        f"{target.project}, e.g. roles/container.clusterViewer)",
        404: " (check project, location and name)",
    }.get(status, "")
    raise ClusterConnectError(cluster, f"{doing}: GKE API {status}: {message}{hint}")


def _api_message(response: Any) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error.get("status") or response.reason)
    except (ValueError, AttributeError):
        return str(response.reason or "no message")


def _server(target: GkeCluster, cluster: str, body: dict[str, Any]) -> tuple[str, str | None]:
    status = str(body.get("status", ""))
    endpoints = body.get("controlPlaneEndpointsConfig") or {}
    if target.endpoint == "dns":
        address = (endpoints.get("dnsEndpointConfig") or {}).get("endpoint")
    elif target.endpoint == "private":
        address = (body.get("privateClusterConfig") or {}).get("privateEndpoint") or (
            endpoints.get("ipEndpointsConfig") or {}
        ).get("privateEndpoint")
    else:
        address = body.get("endpoint")
    if not address:
        transient = status not in _SERVING and status not in {"ERROR", "STOPPING"}
        raise ClusterConnectError(
            cluster,
            f"GKE cluster {target.resource} has no {target.endpoint} endpoint"
            f" (status {status or 'unknown'})",
            transient=transient,
        )
    if target.endpoint == "dns":
        return f"https://{address}", None
    ca_data = (body.get("masterAuth") or {}).get("clusterCaCertificate")
    try:
        pem = base64.b64decode(ca_data or "", validate=True)
    except (binascii.Error, ValueError):
        pem = b""
    if b"BEGIN CERTIFICATE" not in pem:
        raise ClusterConnectError(
            cluster, f"GKE cluster {target.resource} has no valid CA certificate"
        )
    return f"https://{address}", str(ca_data)


def _expiry(credentials: Any) -> datetime | None:
    # google-auth keeps expiry as a naive UTC time.
    expiry = getattr(credentials, "expiry", None)
    if isinstance(expiry, datetime):
        return expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)
    return None

"""The cluster registry against the real local cluster: a registered kubeconfig, a kubeconfig
read through (a fake of) Secret Manager, and a GKE-style connection (endpoint and CA from a fake
GKE API on 127.0.0.1, a real ServiceAccount token as the bearer token) each reach the cluster
and list its namespaces; a caller's KUBECONFIG and HELM_* pointing elsewhere change nothing."""

from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from shared.clusters import ClusterRegistry, GoogleCloud, current_context_of
from shared.helm import HelmClient, KubeTarget
from shared.kube import ClusterAccess
from shared.kube.errors import ApiError
from tests.unit.test_clusters import FakeCredentials, FakeSecretManager


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def namespaces(connection_access: ClusterAccess) -> set[str]:
    return {item.metadata.name for item in connection_access.core.list_namespace().items}


def inlined(kubeconfig: Path) -> dict[str, Any]:
    """The local kubeconfig with its certificate files carried inline, as a kubeconfig kept
    in Secret Manager must be."""
    config = yaml.safe_load(kubeconfig.read_text())
    for section, key in (("clusters", "cluster"), ("users", "user")):
        for item in config[section]:
            body = item[key]
            for field in ("certificate-authority", "client-certificate", "client-key"):
                if field in body:
                    data = Path(body.pop(field)).read_bytes()
                    body[f"{field}-data"] = base64.b64encode(data).decode()
    return config


def test_the_local_stack_registered_by_name_lists_its_namespaces(
    kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    env = {"GUNJ_CLUSTERS": str(tmp_path / "clusters.yaml")}
    ClusterRegistry.load(env).register("local", kubeconfig, current_context_of(kubeconfig))

    registered = ClusterRegistry.load(env).get("local")
    with registered.connect() as connection:
        assert (connection.kubeconfig, connection.context) == (kubeconfig, "kwok-gunj")
        assert namespace in namespaces(connection.access())


def test_kubeconfig_and_helm_variables_of_the_caller_do_not_move_a_connection(
    kubeconfig: Path,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    helm: HelmClient,
) -> None:
    decoy_server = f"https://127.0.0.1:{closed_port()}"
    decoy = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "decoy", "cluster": {"server": decoy_server}}],
        "users": [{"name": "decoy", "user": {"token": "decoy-token"}}],
        "contexts": [{"name": "decoy", "context": {"cluster": "decoy", "user": "decoy"}}],
        "current-context": "decoy",
    }
    decoy_file = tmp_path / "decoy.yaml"
    decoy_file.write_text(yaml.safe_dump(decoy))
    # The registered file itself defaults to the decoy: only the registered context is right.
    both = yaml.safe_load(kubeconfig.read_text())
    for section in ("clusters", "users", "contexts"):
        both[section] += decoy[section]
    both["current-context"] = "decoy"
    registered_file = tmp_path / "both.yaml"
    registered_file.write_text(yaml.safe_dump(both))
    env = {"GUNJ_CLUSTERS": str(tmp_path / "clusters.yaml")}
    ClusterRegistry.load(env).register("local", registered_file, "kwok-gunj")
    for name, value in {
        "KUBECONFIG": str(decoy_file),
        "HELM_KUBECONTEXT": "decoy",
        "HELM_KUBEAPISERVER": decoy_server,
        "HELM_KUBETOKEN": "decoy-token",
        "HELM_NAMESPACE": "kube-system",
        "HELM_DRIVER": "memory",
    }.items():
        monkeypatch.setenv(name, value)

    with ClusterRegistry.load(env).get("local").connect() as connection:
        assert connection.access().core.read_namespace(namespace).metadata.name == namespace
        target = KubeTarget(namespace, kubeconfig=connection.kubeconfig, context=connection.context)
        assert helm.list_releases(target) == []

    # What the caller's environment alone would have reached: nothing.
    with pytest.raises(Exception, match=r"Connection refused|Max retries"):
        ClusterAccess(decoy_file).core.list_namespace(_request_timeout=5)


def test_a_kubeconfig_from_secret_manager_reaches_the_cluster(
    kubeconfig: Path, namespace: str
) -> None:
    fake = FakeSecretManager(content=yaml.safe_dump(inlined(kubeconfig)).encode())
    cloud = GoogleCloud(
        project="gunj-local",
        credentials_factory=FakeCredentials,
        secret_manager_factory=lambda _credentials: fake,
    )
    registry = ClusterRegistry.load(
        {"GUNJ_CLUSTER_REGISTRY": json.dumps({"prod": {"secret": "gunj-kubeconfig-prod"}})},
        cloud=cloud,
    )

    with registry.get("prod").connect() as connection:
        assert namespace in namespaces(connection.access())
        written = connection.kubeconfig
        client_key = inlined(kubeconfig)["users"][0]["user"]["client-key-data"]
        assert client_key in connection.secrets
    assert not written.exists()


class FakeGkeApi:
    """Serves projects.locations.clusters.get for one cluster on 127.0.0.1."""

    def __init__(self, cluster: dict[str, Any]) -> None:
        answer = json.dumps(cluster).encode()
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path.split("?")[0])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service_account_token(cluster: ClusterAccess, namespace: str) -> Iterator[str]:
    """A token of a ServiceAccount that may only read namespaces: what GKE's token is to the
    function's identity (its permissions come from RBAC in the cluster, not from Google)."""
    name = f"gunj-registry-{uuid.uuid4().hex[:6]}"
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    cluster.core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
    )
    rbac.create_cluster_role(
        client.V1ClusterRole(
            metadata=client.V1ObjectMeta(name=name),
            rules=[
                client.V1PolicyRule(
                    api_groups=[""], resources=["namespaces"], verbs=["get", "list"]
                )
            ],
        )
    )
    rbac.create_cluster_role_binding(
        client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=name),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=name
            ),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=namespace)],
        )
    )
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
    )
    token = cluster.core.create_namespaced_service_account_token(name, namespace, request)
    yield token.status.token
    rbac.delete_cluster_role_binding(name)
    rbac.delete_cluster_role(name)


def test_a_gke_style_connection_reaches_the_cluster_with_a_bearer_token(
    kubeconfig: Path, namespace: str, service_account_token: str
) -> None:
    local = inlined(kubeconfig)["clusters"][0]["cluster"]
    api = FakeGkeApi(
        {
            "endpoint": local["server"].removeprefix("https://"),
            "status": "RUNNING",
            "masterAuth": {"clusterCaCertificate": local["certificate-authority-data"]},
        }
    )
    try:
        cloud = GoogleCloud(
            container_api=api.url,
            credentials_factory=lambda: FakeCredentials(service_account_token),
        )
        document = {"prod": {"gke": {"project": "acme", "location": "local", "name": "gunj"}}}
        registry = ClusterRegistry.load(
            {"GUNJ_CLUSTER_REGISTRY": json.dumps(document)}, cloud=cloud
        )

        with registry.get("prod").connect() as connection:
            access = connection.access()
            assert namespace in namespaces(access)
            assert service_account_token in connection.secrets
            # The token's own permissions apply, not the admin certificate of the stack.
            with pytest.raises(ApiError) as denied:
                access.core.list_namespaced_secret("kube-system")
            assert denied.value.status == 403
    finally:
        api.close()
    assert api.paths == ["/v1/projects/acme/locations/local/clusters/gunj"]

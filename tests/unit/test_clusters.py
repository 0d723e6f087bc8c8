"""The cluster registry without a cluster: where it is read from, its file format and every
error it reports, registering, and the Secret Manager and GKE paths against fakes of Google's
services (a fake Secret Manager client; a fake GKE REST API served on 127.0.0.1). The same paths
reach the real local cluster in tests/cluster/test_cluster_registry.py."""

from __future__ import annotations

import base64
import json
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from google.api_core import exceptions as api
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth

from shared.cli.main import main
from shared.clusters import (
    ClusterConnectError,
    ClusterRegistry,
    GkeCluster,
    GoogleCloud,
    KubeconfigFile,
    RegistryError,
    SecretKubeconfig,
    UnknownCluster,
)
from shared.clusters.location import locate
from shared.errors import GunjError

TOKEN = "ya29.secret-access-token-value"
CLIENT_KEY = base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nsecret\n").decode()
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()


def kubeconfig_text(
    contexts: tuple[str, ...] = ("main",), current: str | None = "main", user: Any = None
) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
            "users": [{"name": "u", "user": user or {"token": TOKEN}}],
            "contexts": [{"name": n, "context": {"cluster": "c", "user": "u"}} for n in contexts],
            "current-context": current,
        }
    )


def load(text: str, tmp_path: Path, cloud: GoogleCloud | None = None) -> ClusterRegistry:
    path = tmp_path / "clusters.yaml"
    path.write_text(text)
    return ClusterRegistry.load({"GUNJ_CLUSTERS": str(path)}, cloud=cloud)


def problems(text: str, tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        if env is None:
            load(text, tmp_path, GoogleCloud())
        else:
            ClusterRegistry.load({**env, "GUNJ_CLUSTER_REGISTRY": text})
    assert not caught.value.transient
    return caught.value.problems


# --- where the registry is read from ----------------------------------------------------------


def test_the_registry_is_inline_else_the_named_file_else_the_xdg_or_home_file(
    tmp_path: Path,
) -> None:
    inline = locate({"GUNJ_CLUSTER_REGISTRY": "{}", "HOME": "/h"})
    assert (inline.inline, inline.path, inline.writable) == ("{}", None, False)
    assert locate({"GUNJ_CLUSTERS": str(tmp_path / "c.yaml")}).path == tmp_path / "c.yaml"
    assert locate({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}).path == Path("/x/gunj/clusters.yaml")
    assert locate({"HOME": "/h"}).path == Path("/h/.config/gunj/clusters.yaml")


def test_setting_both_the_inline_registry_and_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="both GUNJ_CLUSTER_REGISTRY and GUNJ_CLUSTERS"):
        ClusterRegistry.load({"GUNJ_CLUSTER_REGISTRY": "{}", "GUNJ_CLUSTERS": "/c.yaml"})


def test_a_missing_file_is_an_empty_registry_that_says_so(tmp_path: Path) -> None:
    registry = ClusterRegistry.load({"GUNJ_CLUSTERS": str(tmp_path / "none.yaml")})

    assert registry.names() == []
    with pytest.raises(UnknownCluster) as caught:
        registry.get("prod")
    message = str(caught.value)
    assert "'prod'" in message and str(tmp_path / "none.yaml") in message
    assert "does not exist" in message


# --- the file format --------------------------------------------------------------------------


REGISTRY = """
local:
  kubeconfig: kube/local.yaml
  context: kwok-gunj
prod-eu:
  secret: projects/acme/secrets/gunj-kubeconfig-prod-eu
  aliases: [prod-eu-west1, eu]
  namespaces: [observability, "team-*"]
  serviceAccount: gunj-platform
prod-us:
  gke: {project: acme, location: us-east1, name: prod-us-1, endpoint: dns}
  allowTemplates: true
short:
  secret: gunj-kubeconfig-short
  context: admin
"""


def test_each_kind_of_cluster_is_read(tmp_path: Path) -> None:
    registry = load(REGISTRY, tmp_path, GoogleCloud(project="acme"))

    assert registry.names() == ["local", "prod-eu", "prod-us", "short"]
    local = registry.get("local")
    assert local.target == KubeconfigFile(tmp_path / "kube" / "local.yaml", "kwok-gunj")
    assert (local.kind, local.aliases, local.allow_templates) == ("kubeconfig", (), False)
    prod_eu = registry.get("prod-eu")
    assert prod_eu.target == SecretKubeconfig(
        "projects/acme/secrets/gunj-kubeconfig-prod-eu/versions/latest"
    )
    assert prod_eu.aliases == ("prod-eu-west1", "eu")
    prod_us = registry.get("prod-us")
    assert prod_us.target == GkeCluster("acme", "us-east1", "prod-us-1", "dns")
    assert prod_us.allow_templates is True
    assert registry.get("short").target == SecretKubeconfig(
        "projects/acme/secrets/gunj-kubeconfig-short/versions/latest", "admin"
    )


def test_find_takes_a_name_or_an_alias_and_get_only_a_name(tmp_path: Path) -> None:
    registry = load(REGISTRY, tmp_path, GoogleCloud(project="acme"))

    assert registry.find("eu").name == "prod-eu"
    assert registry.find("prod-us").name == "prod-us"
    with pytest.raises(UnknownCluster):
        registry.get("eu")
    with pytest.raises(UnknownCluster) as caught:
        registry.find("staging")
    error = caught.value
    assert isinstance(error, GunjError) and not error.transient
    assert str(tmp_path / "clusters.yaml") in str(error) and "'staging'" in str(error)
    assert "local, prod-eu, prod-us, short" in str(error)


def test_the_gke_name_defaults_to_the_registry_name() -> None:
    registry = ClusterRegistry.load(
        {"GUNJ_CLUSTER_REGISTRY": json.dumps({"prod": {"gke": {"project": "p", "location": "l"}}})}
    )

    assert registry.get("prod").target == GkeCluster("p", "l", "prod")
    assert registry.source == "$GUNJ_CLUSTER_REGISTRY"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prod: {kubeconfig: /k}", "cluster 'prod': field 'context': required with kubeconfig"),
        ("prod: {kubeconfig: /k, context: c, kubconfig: x}", "cluster 'prod': unknown field"),
        ("prod: {context: c}", "cluster 'prod': give exactly one of the fields"),
        ("prod: {kubeconfig: /k, context: c, secret: s}", "(found kubeconfig, secret)"),
        ("prod: {kubeconfig: '', context: c}", "cluster 'prod': field 'kubeconfig': must be"),
        ("prod: {kubeconfig: /k, context: 3}", "cluster 'prod': field 'context': must be"),
        (
            "prod: {kubeconfig: /k, context: c, allowTemplates: 'yes'}",
            "cluster 'prod': field 'allowTemplates': must be true or false",
        ),
        ("prod: {kubeconfig: /k, context: c, aliases: eu}", "field 'aliases': must be a list"),
        ("prod: {kubeconfig: /k, context: c, namespaces: obs}", "field 'namespaces': must be"),
        ("prod: {kubeconfig: /k, context: c, namespaces: [Obs]}", "field 'namespaces[0]'"),
        ("prod: {kubeconfig: /k, context: c, serviceAccount: A_B}", "field 'serviceAccount'"),
        ("prod: {kubeconfig: /k, context: c, aliases: [a b]}", "field 'aliases[0]'"),
        ("prod: {secret: 's/x'}", "cluster 'prod': field 'secret': must be a secret ID"),
        ("prod: {secret: gunj-kubeconfig-prod}", "names no project"),
        ("prod: {gke: {location: l, name: n}}", "cluster 'prod': field 'gke.project'"),
        ("prod: {gke: {project: p, location: l, zone: z}}", "field 'gke.zone': unknown"),
        ("prod: {gke: {project: p, location: l, endpoint: x}}", "field 'gke.endpoint'"),
        ("prod: {gke: {project: p, location: l}, context: c}", "field 'context': not used"),
        ("prod: {gke: p}", "cluster 'prod': field 'gke': must be a mapping"),
        ("prod: kubeconfig", "cluster 'prod': must be a mapping"),
        ("'bad name': {kubeconfig: /k, context: c}", "cluster 'bad name': a name is"),
        ("[a, b]", "must be a mapping of cluster names"),
        (
            "a: {kubeconfig: /k, context: c}\na: {kubeconfig: /j, context: c}",
            'line 2, column 1: the key "a" is given twice (first at line 1, column 1)',
        ),
        ("a: [b", "not valid YAML: did not find expected ',' or ']'"),
        (
            # an alias bomb: nine levels of nine aliases
            "x0: &x0 [a, a, a, a, a, a, a, a, a]\n"
            + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n" for i in range(1, 9)),
            "(aliases counted as expanded)",
        ),
        ("a: !!python/object:os.system {}", "a (line 1, column 4): the tag !!python/object"),
    ],
)
def test_each_bad_entry_is_named_with_its_field(text: str, expected: str, tmp_path: Path) -> None:
    found = problems(text, tmp_path)

    assert any(expected in problem for problem in found), found


def test_aliases_may_not_take_another_clusters_name_or_alias(tmp_path: Path) -> None:
    text = """
a: {kubeconfig: /k, context: c, aliases: [b, shared]}
b: {kubeconfig: /k, context: c}
c: {kubeconfig: /k, context: c, aliases: [shared]}
"""
    assert problems(text, tmp_path) == [
        "cluster 'a': field 'aliases': 'b' is already the name of cluster 'b'",
        "cluster 'c': field 'aliases': 'shared' is already an alias of cluster 'a'",
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems("a: {kubeconfig: /k}\nb: {gke: {}}\nc: {secret: ''}", tmp_path)

    assert [p.split(":")[0] for p in found] == [
        "cluster 'a'",
        "cluster 'b'",  # gke.project
        "cluster 'b'",  # gke.location (gke.name defaults to the cluster's name)
        "cluster 'c'",
    ]


def test_an_inline_registry_needs_absolute_kubeconfig_paths() -> None:
    found = problems("a: {kubeconfig: k.yaml, context: c}", Path(), env={})

    assert found == ["cluster 'a': field 'kubeconfig': 'k.yaml' must be an absolute path"]


# --- registering ------------------------------------------------------------------------------


def test_register_writes_a_private_file_and_keeps_other_entries(tmp_path: Path) -> None:
    path = tmp_path / "config" / "gunj" / "clusters.yaml"
    registry = ClusterRegistry.load({"XDG_CONFIG_HOME": str(tmp_path / "config")})

    registry.register("local", tmp_path / "one.yaml", "kwok-gunj")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    again = ClusterRegistry.load({"GUNJ_CLUSTERS": str(path)})
    again.register("other", tmp_path / "two.yaml", "ctx", aliases=["o"], allow_templates=True)

    reloaded = ClusterRegistry.load({"GUNJ_CLUSTERS": str(path)})
    assert reloaded.names() == ["local", "other"]
    assert reloaded.get("other").aliases == ("o",)
    assert reloaded.get("other").allow_templates is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["clusters.yaml"]  # no temporary left


def test_registering_again_moves_the_cluster_but_keeps_its_aliases(tmp_path: Path) -> None:
    env = {"GUNJ_CLUSTERS": str(tmp_path / "clusters.yaml")}
    ClusterRegistry.load(env).register("local", tmp_path / "a.yaml", "a", aliases=["laptop"])

    registered = ClusterRegistry.load(env).register("local", tmp_path / "b.yaml", "b")

    assert registered.target == KubeconfigFile(tmp_path / "b.yaml", "b")
    assert ClusterRegistry.load(env).find("laptop").name == "local"


def test_register_refuses_an_inline_registry_and_a_bad_name(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not a file"):
        ClusterRegistry.load({"GUNJ_CLUSTER_REGISTRY": "{}"}).register("a", tmp_path, "c")
    registry = ClusterRegistry.load({"GUNJ_CLUSTERS": str(tmp_path / "c.yaml")})
    with pytest.raises(RegistryError, match="cluster 'a b': a name is"):
        registry.register("a b", tmp_path, "c")
    assert not (tmp_path / "c.yaml").exists()


# --- kubeconfig files -------------------------------------------------------------------------


def test_a_kubeconfig_file_connects_with_its_named_context(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kube.yaml"
    kubeconfig.write_text(kubeconfig_text(contexts=("main", "other"), current="other"))
    registry = load(f"a: {{kubeconfig: {kubeconfig}, context: main}}", tmp_path)

    with registry.get("a").connect() as connection:
        assert (connection.kubeconfig, connection.context) == (kubeconfig, "main")
        assert TOKEN in connection.secrets
        assert TOKEN not in repr(connection)
    assert kubeconfig.exists()  # the registry's own file is never removed


def test_a_kubeconfig_file_that_is_missing_or_lacks_the_context_is_permanent(
    tmp_path: Path,
) -> None:
    kubeconfig = tmp_path / "kube.yaml"
    registry = load(f"a: {{kubeconfig: {kubeconfig}, context: gone}}", tmp_path)
    with pytest.raises(ClusterConnectError, match=r"cluster 'a': field 'kubeconfig': .* does not"):
        registry.get("a").connect()

    kubeconfig.write_text(kubeconfig_text())
    with pytest.raises(ClusterConnectError) as caught:
        registry.get("a").connect()
    assert "field 'context'" in str(caught.value) and "has no context 'gone'" in str(caught.value)
    assert not caught.value.transient


# --- Secret Manager, through a fake client ---------------------------------------------------


@dataclass
class Payload:
    data: bytes


@dataclass
class Response:
    payload: Payload


@dataclass
class FakeSecretManager:
    """Answers access_secret_version as the real client does, or raises ``error``."""

    content: bytes = b""
    error: Exception | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def access_secret_version(
        self, request: Any = None, *, retry: Any = None, timeout: Any = None
    ) -> Response:
        # Transient failures are retried within the same timeout.
        assert retry is not None and retry.timeout == timeout
        self.requests.append({**request, "timeout": timeout})
        if self.error is not None:
            raise self.error
        return Response(Payload(self.content))


class FakeCredentials(auth_credentials.Credentials):
    def __init__(self, token: str = TOKEN, error: Exception | None = None) -> None:
        super().__init__()
        self.next_token = token
        self.error = error
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        if self.error is not None:
            raise self.error
        self.token = self.next_token
        self.expiry = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)


def secret_cloud(fake: FakeSecretManager, **kwargs: Any) -> GoogleCloud:
    return GoogleCloud(
        project="acme",
        credentials_factory=FakeCredentials,
        secret_manager_factory=lambda _credentials: fake,
        **kwargs,
    )


def secret_registry(fake: FakeSecretManager, context: str | None = None) -> ClusterRegistry:
    entry: dict[str, Any] = {"secret": "gunj-kubeconfig-prod"}
    if context:
        entry["context"] = context
    return ClusterRegistry.load(
        {"GUNJ_CLUSTER_REGISTRY": json.dumps({"prod": entry})}, cloud=secret_cloud(fake)
    )


def test_a_kubeconfig_from_secret_manager_is_written_privately_and_removed(
    tmp_path: Path,
) -> None:
    fake = FakeSecretManager(content=kubeconfig_text(contexts=("main", "b")).encode())

    connection = secret_registry(fake, context="b").get("prod").connect()

    assert fake.requests == [
        {"name": "projects/acme/secrets/gunj-kubeconfig-prod/versions/latest", "timeout": 30.0}
    ]
    path = connection.kubeconfig
    assert connection.context == "b"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_bytes() == fake.content
    assert TOKEN in connection.secrets and fake.content.decode() in connection.documents
    assert TOKEN not in repr(connection)
    connection.close()
    assert not path.exists() and not path.parent.exists()


def test_a_secrets_kubeconfig_uses_its_own_current_context_unless_one_is_named() -> None:
    fake = FakeSecretManager(content=kubeconfig_text(contexts=("a", "main")).encode())

    with secret_registry(fake).get("prod").connect() as connection:
        assert connection.context == "main"


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (api.NotFound("Secret [projects/acme/secrets/x] not found or has no versions."), False),
        (api.PermissionDenied("Permission 'secretmanager.versions.access' denied"), False),
        (api.FailedPrecondition("Secret Version is in DISABLED state."), False),
        (api.ServiceUnavailable("connection refused"), True),
        (api.DeadlineExceeded("deadline exceeded"), True),
        (api.TooManyRequests("quota"), True),
        (api.RetryError("retries exhausted", cause=None), True),
        (auth.TransportError("metadata server unreachable"), True),
    ],
)
def test_secret_manager_errors_are_transient_only_when_a_retry_can_help(
    error: Exception, transient: bool
) -> None:
    with pytest.raises(ClusterConnectError) as caught:
        secret_registry(FakeSecretManager(error=error)).get("prod").connect()

    assert caught.value.transient is transient
    assert "cluster 'prod'" in str(caught.value)
    assert "gunj-kubeconfig-prod" in str(caught.value)


def test_missing_google_credentials_are_permanent() -> None:
    def no_credentials() -> Any:
        raise auth.DefaultCredentialsError("Your default credentials were not found.")

    cloud = GoogleCloud(project="acme", credentials_factory=no_credentials)
    registry = ClusterRegistry.load(
        {"GUNJ_CLUSTER_REGISTRY": '{"prod": {"secret": "s"}}'}, cloud=cloud
    )
    with pytest.raises(ClusterConnectError, match="Google credentials failed") as caught:
        registry.get("prod").connect()
    assert not caught.value.transient


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (kubeconfig_text(current=None).encode(), "has no current-context"),
        (b"users: [token: {a\n  secret-token-in-line", "(line 3, column 1): not valid YAML"),
        (b"\xff\xfe", "is not UTF-8 text"),
        (
            kubeconfig_text(user={"exec": {"command": "gke-gcloud-auth-plugin"}}).encode(),
            "exec credential plugin 'gke-gcloud-auth-plugin'",
        ),
        (
            kubeconfig_text(user={"auth-provider": {"name": "gcp"}}).encode(),
            "auth-provider 'gcp'",
        ),
    ],
)
def test_an_unusable_kubeconfig_in_a_secret_is_permanent_and_not_quoted(
    content: bytes, expected: str
) -> None:
    with pytest.raises(ClusterConnectError) as caught:
        secret_registry(FakeSecretManager(content=content)).get("prod").connect()

    message = str(caught.value)
    assert expected in message and not caught.value.transient
    assert "secret-token-in-line" not in message and TOKEN not in message


def test_credentials_in_a_kubeconfig_are_all_secrets() -> None:
    user = {"client-key-data": CLIENT_KEY, "password": "hunter2", "token": TOKEN}
    fake = FakeSecretManager(content=kubeconfig_text(user=user).encode())

    with secret_registry(fake).get("prod").connect() as connection:
        assert {CLIENT_KEY, "hunter2", TOKEN} <= set(connection.secrets)


# --- GKE, through a fake GKE REST API on 127.0.0.1 -------------------------------------------


@dataclass
class FakeGke:
    """What the fake GKE API answers, and the requests it saw."""

    status: int = 200
    body: dict[str, Any] = field(
        default_factory=lambda: {
            "endpoint": "203.0.113.7",
            "status": "RUNNING",
            "masterAuth": {"clusterCaCertificate": CA},
            "privateClusterConfig": {"privateEndpoint": "10.0.0.2"},
            "controlPlaneEndpointsConfig": {
                "dnsEndpointConfig": {"endpoint": "gke-1.us-east1.gke.goog"}
            },
        }
    )
    seen: list[tuple[str, dict[str, list[str]], str | None]] = field(default_factory=list)


@pytest.fixture
def gke() -> Iterator[tuple[FakeGke, str]]:
    fake = FakeGke()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            fake.seen.append((url.path, parse_qs(url.query), self.headers.get("Authorization")))
            body = fake.body if fake.status == 200 else {"error": {"message": "no such cluster"}}
            data = json.dumps(body).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def gke_registry(api_url: str, endpoint: str = "public", **kwargs: Any) -> ClusterRegistry:
    cloud = GoogleCloud(container_api=api_url, timeout=5, **kwargs)
    gke_entry = {"project": "acme", "location": "us-east1", "name": "prod-us-1"}
    if endpoint != "public":
        gke_entry["endpoint"] = endpoint
    document = {"prod-us": {"gke": gke_entry}}
    return ClusterRegistry.load({"GUNJ_CLUSTER_REGISTRY": json.dumps(document)}, cloud=cloud)


def test_a_gke_cluster_gets_a_bearer_kubeconfig_from_the_gke_api(
    gke: tuple[FakeGke, str],
) -> None:
    fake, url = gke
    credentials = FakeCredentials()

    connection = gke_registry(url, credentials_factory=lambda: credentials).get("prod-us").connect()

    path, query, authorization = fake.seen[0]
    assert path == "/v1/projects/acme/locations/us-east1/clusters/prod-us-1"
    assert authorization == f"Bearer {TOKEN}"
    assert "masterAuth.clusterCaCertificate" in query["fields"][0]
    config = yaml.safe_load(connection.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"] == {
        "server": "https://203.0.113.7",
        "certificate-authority-data": CA,
    }
    assert config["users"][0]["user"] == {"token": TOKEN}
    assert config["current-context"] == connection.context == "prod-us"
    assert stat.S_IMODE(connection.kubeconfig.stat().st_mode) == 0o600
    assert TOKEN in connection.secrets and TOKEN not in repr(connection)
    assert connection.expires is not None and connection.expires > datetime.now(UTC)
    connection.close()
    assert not connection.kubeconfig.exists()


@pytest.mark.parametrize(
    ("endpoint", "server", "ca"),
    [("private", "https://10.0.0.2", CA), ("dns", "https://gke-1.us-east1.gke.goog", None)],
)
def test_a_gke_cluster_can_be_reached_at_its_private_or_dns_endpoint(
    gke: tuple[FakeGke, str], endpoint: str, server: str, ca: str | None
) -> None:
    _fake, url = gke
    registry = gke_registry(url, endpoint, credentials_factory=FakeCredentials)

    with registry.get("prod-us").connect() as connection:
        cluster = yaml.safe_load(connection.kubeconfig.read_text())["clusters"][0]["cluster"]
    assert cluster["server"] == server
    assert cluster.get("certificate-authority-data") == ca


@pytest.mark.parametrize(
    ("status", "transient", "expected"),
    [
        (404, False, "GKE API 404: no such cluster (check project, location and name)"),
        (403, False, "needs container.clusters.get on project acme"),
        (401, False, "GKE API 401"),
        (429, True, "GKE API 429"),
        (503, True, "GKE API 503"),
    ],
)
def test_gke_api_errors_are_transient_only_when_a_retry_can_help(
    gke: tuple[FakeGke, str], status: int, transient: bool, expected: str
) -> None:
    fake, url = gke
    fake.status = status

    with pytest.raises(ClusterConnectError) as caught:
        gke_registry(url, credentials_factory=FakeCredentials).get("prod-us").connect()

    assert caught.value.transient is transient
    assert expected in str(caught.value) and "cluster 'prod-us'" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_an_unreachable_gke_api_or_token_service_is_transient(
    gke: tuple[FakeGke, str],
) -> None:
    _fake, url = gke
    closed = gke_registry("http://127.0.0.1:9", credentials_factory=FakeCredentials)
    with pytest.raises(ClusterConnectError) as caught:
        closed.get("prod-us").connect()
    assert caught.value.transient

    failing = FakeCredentials(error=auth.TransportError("metadata server unreachable"))
    with pytest.raises(ClusterConnectError) as caught:
        gke_registry(url, credentials_factory=lambda: failing).get("prod-us").connect()
    assert caught.value.transient


@pytest.mark.parametrize(
    ("body", "transient", "expected"),
    [
        ({"status": "PROVISIONING"}, True, "has no public endpoint (status PROVISIONING)"),
        ({"status": "ERROR"}, False, "has no public endpoint (status ERROR)"),
        ({"endpoint": "203.0.113.7", "status": "RUNNING"}, False, "no valid CA certificate"),
    ],
)
def test_a_gke_cluster_without_an_endpoint_or_ca(
    gke: tuple[FakeGke, str], body: dict[str, Any], transient: bool, expected: str
) -> None:
    fake, url = gke
    fake.body = body

    with pytest.raises(ClusterConnectError) as caught:
        gke_registry(url, credentials_factory=FakeCredentials).get("prod-us").connect()

    assert expected in str(caught.value) and caught.value.transient is transient


def test_credentials_and_clients_are_made_once_per_registry() -> None:
    made: list[str] = []

    def credentials() -> Any:
        made.append("credentials")
        return FakeCredentials()

    fake = FakeSecretManager(content=kubeconfig_text().encode())

    def client(_credentials: Any) -> FakeSecretManager:
        made.append("client")
        return fake

    cloud = GoogleCloud(
        project="acme", credentials_factory=credentials, secret_manager_factory=client
    )
    registry = ClusterRegistry.load(
        {"GUNJ_CLUSTER_REGISTRY": '{"a": {"secret": "s"}, "b": {"secret": "t"}}'}, cloud=cloud
    )
    for name in ("a", "b", "a"):
        registry.get(name).connect().close()

    assert made == ["credentials", "client"]


# --- gunj clusters ----------------------------------------------------------------------------


def test_gunj_clusters_lists_name_kind_target_and_aliases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text(REGISTRY)
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)
    monkeypatch.setenv("GUNJ_CLUSTERS", str(path))
    monkeypatch.setenv("GUNJ_PROJECT", "acme")

    assert main(["clusters"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"registry: {path}"
    assert lines[1].split() == [
        "NAME",
        "KIND",
        "TARGET",
        "ALIASES",
        "TEMPLATES",
        "NAMESPACES",
        "ACTS",
        "AS",
        "ALERT",
        "TOKENS",
    ]
    assert lines[3].split()[:2] == ["prod-eu", "secret"]
    assert lines[3].split()[-6:] == [
        "prod-eu-west1,eu",
        "-",
        "observability,team-*",
        "serviceaccount",
        "gunj-platform",
        "none",
    ]
    assert lines[2].split()[-4:] == ["any", "registry", "credentials", "none"]
    assert main(["clusters", "--output", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["clusters"]
    assert [(c["name"], c["kind"]) for c in listed] == [
        ("local", "kubeconfig"),
        ("prod-eu", "secret"),
        ("prod-us", "gke"),
        ("short", "secret"),
    ]


def test_gunj_clusters_reports_a_bad_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text("prod: {kubeconfig: /k}\n")
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)
    monkeypatch.setenv("GUNJ_CLUSTERS", str(path))

    assert main(["clusters"]) == 1
    assert "cluster 'prod': field 'context': required" in capsys.readouterr().err


# --- rollout waves ----------------------------------------------------------------------------


def test_clusters_go_into_their_waves_in_order_and_those_without_one_last(tmp_path: Path) -> None:
    env = {"GUNJ_CLUSTERS": str(tmp_path / "clusters.yaml")}
    registry = ClusterRegistry.load(env)
    registry.register("b", tmp_path / "b.yaml", "b", wave="main")
    registry.register("a", tmp_path / "a.yaml", "a", wave="canary")
    registry.register("c", tmp_path / "c.yaml", "c")
    registry.register("d", tmp_path / "d.yaml", "d", wave="early")

    waves = ClusterRegistry.load(env).waves()

    assert [(wave.name, wave.clusters) for wave in waves] == [
        ("canary", ("a",)),
        ("early", ("d",)),
        ("main", ("b", "c")),
    ]
    # Registering again keeps the wave.
    ClusterRegistry.load(env).register("a", tmp_path / "a2.yaml", "a")
    assert ClusterRegistry.load(env).get("a").wave == "canary"


def test_a_wave_outside_the_order_is_named_with_its_cluster_and_field(tmp_path: Path) -> None:
    registry = load(f"x:\n  kubeconfig: {tmp_path}/k.yaml\n  context: c\n  wave: first\n", tmp_path)

    with pytest.raises(RegistryError) as caught:
        registry.waves()
    assert caught.value.problems == [
        "cluster 'x': field 'wave': 'first' is not one of the rollout waves (canary, early, "
        "main; set GUNJ_ROLLOUT_WAVES to change them)"
    ]
    assert [wave.name for wave in registry.waves(["first", "then"])] == ["first"]
    assert (
        "field 'wave'"
        in problems(f"x:\n  kubeconfig: {tmp_path}/k.yaml\n  context: c\n  wave: [1]\n", tmp_path)[
            0
        ]
    )

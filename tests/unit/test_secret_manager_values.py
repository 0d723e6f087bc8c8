"""valuesFrom of kind GoogleSecretManager, read by the real google-cloud-secret-manager client
from a server on 127.0.0.1 that speaks Secret Manager's gRPC API (the service cannot be reached
from here): only the secrets the cluster's registry entry allows are read, anything else is
refused naming the field before Secret Manager is asked, and every call ends within its
timeout. The registry's own kubeconfig secrets go through the same client and endpoint."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any, cast

import pytest
from google.auth import exceptions as auth

from shared.cli.main import main
from shared.clusters import ClusterRegistry, GoogleCloud, RegistryError
from shared.clusters.errors import SecretNotGranted
from shared.clusters.secretgrant import GrantedSecrets, SecretGrant
from shared.engine.admission import admit
from shared.engine.sources import (
    SecretSources,
    ValuesSourceError,
    ValuesSourceInvalid,
    ValuesSourceMissing,
    ValuesSourceRefused,
)
from shared.kube import ClusterAccess
from shared.redaction import Redactor
from shared.values.spec.common import ValuesFrom
from shared.values.validation import validate
from tests.secret_manager_server import ServedSecrets, secret_manager
from tests.unit.test_clusters import TOKEN, kubeconfig_text

PROJECT = "obs-prod"
VERSION = f"projects/{PROJECT}/secrets/grafana-values/versions/3"
GRANT = SecretGrant(PROJECT, ("grafana-values", "team-a-*"))
FIELD = "spec.grafana.valuesFrom"


def granted(
    served: ServedSecrets, grant: SecretGrant | None = GRANT, timeout: float = 30.0
) -> GrantedSecrets:
    cloud = GoogleCloud.from_environment({"GUNJ_SECRET_MANAGER_ENDPOINT": served.endpoint})
    cloud.timeout = timeout
    return GrantedSecrets("prod", grant, cloud)


def read(secrets: GrantedSecrets, *uris: str, **entry: Any) -> Any:
    # Secret Manager sources never touch the cluster.
    sources = SecretSources(cast(ClusterAccess, None), "monitoring", secrets)
    references = [
        ValuesFrom.model_validate({"kind": "GoogleSecretManager", "uri": uri, **entry})
        for uri in uris
    ]
    return sources.values(references, field=FIELD)


@pytest.fixture
def served() -> Any:
    with secret_manager(
        {
            VERSION: "grafana.ini:\n  smtp:\n    password: smtp-password-value\n",
            f"projects/{PROJECT}/secrets/team-a-token/versions/latest": "tok",
            f"projects/{PROJECT}/secrets/team-a-binary/versions/1": b"\xff\xfepassword",
            f"projects/{PROJECT}/secrets/other/versions/1": "never read",
            "projects/elsewhere/secrets/grafana-values/versions/3": "never read",
        }
    ) as served:
        yield served


def test_an_allowed_version_is_read_through_the_real_client(served: ServedSecrets) -> None:
    resolved = read(granted(served), f"gcpsm://{VERSION}")

    assert resolved.layers == [{"grafana.ini": {"smtp": {"password": "smtp-password-value"}}}]
    assert served.asked == [VERSION]
    redactor = Redactor()
    resolved.register(redactor)
    assert redactor("smtp said: smtp-password-value") == "smtp said: ***"


def test_a_prefix_allows_the_secrets_it_starts(served: ServedSecrets) -> None:
    uri = f"gcpsm://projects/{PROJECT}/secrets/team-a-token/versions/latest"

    resolved = read(granted(served), uri, targetPath="smtp.token")

    assert resolved.layers == [{"smtp": {"token": "tok"}}]
    assert served.asked == [uri.removeprefix("gcpsm://")]
    redactor = Redactor()
    resolved.register(redactor)
    assert redactor('token "tok" refused; stock') == 'token "***" refused; stock'


@pytest.mark.parametrize(
    ("uri", "grant", "expected"),
    [
        (
            f"gcpsm://projects/{PROJECT}/secrets/other/versions/1",
            GRANT,
            f"secret other of project {PROJECT} is not allowed on cluster 'prod' (field "
            f"'secretManager' of its registry entry allows project {PROJECT}: grafana-values, "
            "team-a-*)",
        ),
        (
            "gcpsm://projects/elsewhere/secrets/grafana-values/versions/3",
            GRANT,
            "secret grafana-values of project elsewhere is not allowed on cluster 'prod'",
        ),
        (
            f"gcpsm://{VERSION}",
            None,
            "cluster 'prod' allows no Secret Manager secrets (field 'secretManager' of its "
            "registry entry names the ones its specs may read)",
        ),
    ],
    ids=["another-secret", "another-project", "no-grant"],
)
def test_a_version_not_allowed_is_refused_naming_the_field_before_any_call(
    served: ServedSecrets, uri: str, grant: SecretGrant | None, expected: str
) -> None:
    with pytest.raises(ValuesSourceRefused) as refused:
        read(granted(served, grant), uri, optional=True)

    message = str(refused.value)
    assert message.startswith(f"{FIELD}[0]: {uri}: {expected}")
    assert not refused.value.transient  # optional or not: a refusal is no missing source
    assert served.asked == []


def test_the_reader_refuses_before_it_makes_a_client(served: ServedSecrets) -> None:
    cloud = GoogleCloud(credentials_factory=lambda: pytest.fail("no credentials are needed"))
    secrets = GrantedSecrets("prod", GRANT, cloud)

    with pytest.raises(SecretNotGranted):
        secrets.read(f"projects/{PROJECT}/secrets/other/versions/1")


def test_without_google_credentials_the_field_is_named_and_the_error_is_permanent() -> None:
    def no_credentials() -> Any:
        raise auth.DefaultCredentialsError("Your default credentials were not found.")

    secrets = GrantedSecrets("prod", GRANT, GoogleCloud(credentials_factory=no_credentials))

    with pytest.raises(ValuesSourceError) as failed:
        read(secrets, f"gcpsm://{VERSION}")

    assert str(failed.value).startswith(
        f"{FIELD}[0]: gcpsm://{VERSION}: cluster 'prod': Google credentials failed"
    )
    assert not failed.value.transient


def test_a_missing_version_is_transient_unless_optional(served: ServedSecrets) -> None:
    absent = f"gcpsm://projects/{PROJECT}/secrets/team-a-absent/versions/2"

    with pytest.raises(ValuesSourceMissing) as missing:
        read(granted(served), absent)

    assert str(missing.value) == f"{FIELD}[0]: {absent} does not exist"
    assert missing.value.transient
    assert read(granted(served), absent, optional=True).layers == []


def test_a_payload_that_is_not_text_is_refused_without_its_bytes(served: ServedSecrets) -> None:
    uri = f"gcpsm://projects/{PROJECT}/secrets/team-a-binary/versions/1"

    with pytest.raises(ValuesSourceInvalid) as refused:
        read(granted(served), uri)

    assert str(refused.value) == f"{FIELD}[0]: {uri} is not UTF-8 text"
    assert "password" not in str(refused.value)


def test_a_service_that_does_not_answer_fails_within_the_timeout(served: ServedSecrets) -> None:
    served.hang = True
    started = time.monotonic()

    with pytest.raises(ValuesSourceError) as failed:
        read(granted(served, timeout=1.0), f"gcpsm://{VERSION}")

    # A generous bound that still catches a call left to hang (the server holds it for 60 s).
    assert time.monotonic() - started < 30
    assert failed.value.transient
    assert "Secret Manager failed: DeadlineExceeded" in str(failed.value)


def test_a_service_that_cannot_be_reached_is_transient() -> None:
    with socket.socket() as held:  # bound, not listening: connections are refused
        held.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{held.getsockname()[1]}"
        cloud = GoogleCloud.from_environment({"GUNJ_SECRET_MANAGER_ENDPOINT": endpoint})
        cloud.timeout = 2.0
        started = time.monotonic()

        with pytest.raises(ValuesSourceError) as failed:
            read(GrantedSecrets("prod", GRANT, cloud), f"gcpsm://{VERSION}")

    assert time.monotonic() - started < 30
    assert failed.value.transient


# --- the registry's field ----------------------------------------------------------------------


def registry(entries: dict[str, Any], endpoint: str | None = None) -> ClusterRegistry:
    env = {"GUNJ_CLUSTER_REGISTRY": json.dumps(entries), "GUNJ_PROJECT": "acme"}
    if endpoint:
        env["GUNJ_SECRET_MANAGER_ENDPOINT"] = endpoint
    return ClusterRegistry.load(env)


def test_the_registry_names_the_secrets_each_cluster_may_read() -> None:
    clusters = registry(
        {
            "prod": {
                "kubeconfig": "/k",
                "context": "c",
                "secretManager": {"project": PROJECT, "secrets": ["grafana-values", "team-a-*"]},
            },
            "dev": {"kubeconfig": "/k", "context": "d"},
        }
    )

    assert clusters.get("prod").secret_grant == GRANT
    assert clusters.get("dev").secret_grant is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("acme", "field 'secretManager': must be a mapping with project and secrets"),
        ({"project": "acme"}, "field 'secretManager.secrets': must be a non-empty list"),
        ({"project": "A", "secrets": ["s"]}, "field 'secretManager.project': must be a project"),
        (
            {"project": "acme", "secrets": ["*"]},
            "field 'secretManager.secrets[0]': '*' would allow every secret of the project",
        ),
        (
            {"project": "acme", "secrets": ["ok", "bad/name"]},
            "field 'secretManager.secrets[1]': 'bad/name' is not a secret ID",
        ),
        (
            {"project": "acme", "secrets": ["s"], "version": "1"},
            "field 'secretManager.version': unknown (known: project, secrets)",
        ),
    ],
)
def test_a_bad_secret_manager_field_is_refused_naming_it(value: Any, problem: str) -> None:
    with pytest.raises(RegistryError) as refused:
        registry({"prod": {"kubeconfig": "/k", "context": "c", "secretManager": value}})

    assert any(p.startswith(f"cluster 'prod': {problem}") for p in refused.value.problems), (
        refused.value.problems
    )


def test_no_cluster_may_read_a_kubeconfig_the_registry_holds() -> None:
    with pytest.raises(RegistryError) as refused:
        registry(
            {
                "prod": {"secret": "gunj-kubeconfig-prod"},
                "dev": {
                    "kubeconfig": "/k",
                    "context": "c",
                    "secretManager": {"project": "acme", "secrets": ["gunj-*"]},
                },
            }
        )

    assert refused.value.problems == [
        "cluster 'dev': field 'secretManager.secrets' allows secret gunj-kubeconfig-prod, which "
        "holds the kubeconfig of cluster 'prod'"
    ]


def test_registering_a_cluster_again_keeps_its_secret_manager_field(tmp_path: Path) -> None:
    path = tmp_path / "clusters.yaml"
    grant = {"project": PROJECT, "secrets": ["grafana-values"]}
    path.write_text(
        json.dumps({"local": {"kubeconfig": "/k", "context": "c", "secretManager": grant}})
    )
    clusters = ClusterRegistry.load({"GUNJ_CLUSTERS": str(path)})

    clusters.register("local", tmp_path / "other.yaml", "d")

    again = ClusterRegistry.load({"GUNJ_CLUSTERS": str(path)}).get("local")
    assert again.secret_grant == SecretGrant(PROJECT, ("grafana-values",))


def test_gunj_clusters_shows_the_secrets_a_cluster_may_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    grant = {"project": PROJECT, "secrets": ["grafana-values", "team-a-*"]}
    monkeypatch.setenv(
        "GUNJ_CLUSTER_REGISTRY",
        json.dumps({"prod": {"kubeconfig": "/k", "context": "c", "secretManager": grant}}),
    )

    assert main(["clusters", "--output", "json"]) == 0

    assert json.loads(capsys.readouterr().out)["clusters"][0]["secretManager"] == grant


def test_a_kubeconfig_in_secret_manager_is_read_through_the_same_endpoint() -> None:
    version = "projects/acme/secrets/gunj-kubeconfig-prod/versions/latest"
    with secret_manager({version: kubeconfig_text()}) as served:
        connection = (
            registry({"prod": {"secret": "gunj-kubeconfig-prod"}}, served.endpoint)
            .get("prod")
            .connect()
        )

    with connection:
        assert served.asked == [version]
        assert connection.context == "main"
        assert TOKEN in connection.secrets


# --- admission ---------------------------------------------------------------------------------


def test_a_spec_reading_a_secret_not_allowed_is_refused_before_anything_happens(
    served: ServedSecrets,
) -> None:
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": "obs", "namespace": "monitoring"},
        "spec": {
            "grafana": {
                "valuesFrom": [
                    {"kind": "GoogleSecretManager", "uri": f"gcpsm://{VERSION}"},
                    {
                        "kind": "GoogleSecretManager",
                        "uri": f"gcpsm://projects/{PROJECT}/secrets/other/versions/1",
                    },
                ]
            }
        },
    }
    platform = validate(document).platform
    assert platform is not None

    refusal = admit(
        platform,
        None,
        generation=None,
        message_id=None,
        allow_templates=False,
        secrets=granted(served).refusal,
    )

    assert refusal is not None and refusal.result == "refused"
    assert refusal.message.startswith(
        f"spec.grafana.valuesFrom[1]: gcpsm://projects/{PROJECT}/secrets/other/versions/1: "
        f"secret other of project {PROJECT} is not allowed on cluster 'prod'"
    )
    assert served.asked == []

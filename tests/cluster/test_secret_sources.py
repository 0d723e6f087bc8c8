"""valuesFrom and repository credentials, read from real Secrets and ConfigMaps of the target
cluster (and from Google Secret Manager through its real client)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from kubernetes import client

from shared.clusters import GoogleCloud
from shared.clusters.secretgrant import GrantedSecrets, SecretGrant
from shared.engine.sources import SecretSources, ValuesSourceInvalid, ValuesSourceMissing
from shared.kube import ClusterAccess
from shared.values.spec.common import SecretRef, ValuesFrom
from tests.secret_manager_server import secret_manager

SECRET = "remote-write-token-value"


def refs(*entries: dict[str, Any]) -> list[ValuesFrom]:
    return [ValuesFrom.model_validate(entry) for entry in entries]


@pytest.fixture
def sources(cluster: ClusterAccess, namespace: str) -> SecretSources:
    core = cluster.core
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="overrides"),
            string_data={
                "values.yaml": "server:\n  retention: 2d\n",
                "token": SECRET,
                "list.yaml": "- listed-item-one\n- listed-item-two\n",
            },
        ),
    )
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="smtp"),
            data={"values.yaml": "grafana.ini:\n  smtp:\n    enabled: true\n"},
        ),
    )
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="repo-auth"),
            data={
                "username": base64.b64encode(b"reader").decode(),
                "password": base64.b64encode(b"hunter2!").decode(),
            },
        ),
    )
    return SecretSources(cluster, namespace)


def test_values_are_read_in_order_and_secrets_are_reported(sources: SecretSources) -> None:
    resolved = sources.values(
        refs(
            {"kind": "Secret", "name": "overrides"},
            {"kind": "ConfigMap", "name": "smtp"},
            {
                "kind": "Secret",
                "name": "overrides",
                "key": "token",
                "targetPath": "server.remoteWrite[0].bearer_token",
            },
        )
    )

    assert resolved.layers == [
        {"server": {"retention": "2d"}},
        {"grafana.ini": {"smtp": {"enabled": True}}},
        {"server": {"remoteWrite": [{"bearer_token": SECRET}]}},
    ]
    assert SECRET in resolved.secrets
    assert "smtp" not in " ".join(resolved.secrets)  # ConfigMaps are not secret


def test_missing_sources_are_transient_unless_optional(sources: SecretSources) -> None:
    with pytest.raises(ValuesSourceMissing, match=r"Secret .*/absent does not exist") as missing:
        sources.values(refs({"kind": "Secret", "name": "absent"}))
    with pytest.raises(ValuesSourceMissing, match="no such key"):
        sources.values(refs({"kind": "ConfigMap", "name": "smtp", "key": "other"}))

    assert missing.value.transient
    assert sources.values(refs({"kind": "Secret", "name": "absent", "optional": True})).layers == []


def test_a_key_that_is_not_a_mapping_is_refused_without_its_content(sources: SecretSources) -> None:
    with pytest.raises(ValuesSourceInvalid) as invalid:
        sources.values(refs({"kind": "Secret", "name": "overrides", "key": "list.yaml"}))

    assert "listed-item" not in str(invalid.value)
    assert "does not hold a YAML mapping" in str(invalid.value)
    assert not invalid.value.transient


def test_repository_credentials_come_from_a_secret(sources: SecretSources) -> None:
    credentials = sources.credentials(SecretRef(name="repo-auth"))

    assert (credentials.username, credentials.password) == ("reader", "hunter2!")
    assert "hunter2!" not in repr(credentials)
    with pytest.raises(ValuesSourceMissing, match="username and password"):
        sources.credentials(SecretRef(name="overrides"))


def test_google_secret_manager_versions_are_read_by_their_resource_name(
    cluster: ClusterAccess, namespace: str
) -> None:
    # The real client, against a server on 127.0.0.1 speaking Secret Manager's gRPC API.
    name = "projects/obs-prod/secrets/grafana-values/versions/3"
    with secret_manager({name: "plugins: [a-panel]\n"}) as served:
        cloud = GoogleCloud.from_environment({"GUNJ_SECRET_MANAGER_ENDPOINT": served.endpoint})
        granted = GrantedSecrets("local", SecretGrant("obs-prod", ("grafana-*",)), cloud)
        sources = SecretSources(cluster, namespace, secret_manager=granted)

        resolved = sources.values(refs({"kind": "GoogleSecretManager", "uri": f"gcpsm://{name}"}))

        assert resolved.layers == [{"plugins": ["a-panel"]}]
        assert served.asked == [name]
        with pytest.raises(ValuesSourceMissing):
            sources.values(
                refs(
                    {
                        "kind": "GoogleSecretManager",
                        "uri": "gcpsm://projects/obs-prod/secrets/grafana-absent/versions/latest",
                    }
                )
            )


def test_a_secret_that_is_not_text_is_refused_without_its_bytes(
    cluster: ClusterAccess, namespace: str
) -> None:
    cluster.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="binary"),
            data={"values.yaml": base64.b64encode(b"\xff\xfepassword: hunter2").decode()},
        ),
    )

    with pytest.raises(ValuesSourceInvalid) as refused:
        SecretSources(cluster, namespace).values(
            refs({"kind": "Secret", "name": "binary", "key": "values.yaml"})
        )

    assert "Secret binary key values.yaml is not UTF-8 text" in str(refused.value)
    assert "hunter2" not in str(refused.value)

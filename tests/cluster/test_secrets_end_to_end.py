"""Secrets through a whole reconcile on the local cluster, with Helm 3 and Helm 4.

- A ``valuesFrom`` of kind GoogleSecretManager is read by the real client from a server on
  127.0.0.1 speaking Secret Manager's gRPC API (the service cannot be reached from here): its
  value reaches the release, and appears nowhere gunj writes (outcome, status, Events, logs).
- One the cluster's registry entry does not allow is refused before anything is created and
  before Secret Manager is asked.
- A secret the API server quotes back in the error Helm reports (Go's ``%q``, escapes and all)
  appears in no form (as it is, JSON-escaped, Go-quoted, base64, URL encoded) anywhere gunj
  writes.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from shared.clusters import GoogleCloud
from shared.clusters.secretgrant import SecretGrant
from shared.engine.resource import read_platform
from shared.helm.releases import ReleaseState
from shared.localstack.stack import Stack
from tests.cluster.test_engine_lifecycle import everything_said
from tests.engine_support import SMALL_PROMETHEUS, Engine, make_engine, platform
from tests.secret_manager_server import ServedSecrets, secret_manager
from tests.unit.test_redaction import every_form

PROJECT = "obs-local"
ANNOTATION = "gunj.io/from-secret-manager"


@pytest.fixture
def served() -> Any:
    with secret_manager({}) as served:
        yield served


@pytest.fixture
def granted_engine(
    engine: Engine, served: ServedSecrets, local_stack: Stack, tmp_path: Path, engine_cache: Path
) -> Engine:
    """The engine fixture's Helm major, on a cluster whose registry entry lets specs read the
    secrets ``prometheus-*`` of project obs-local, from the server on 127.0.0.1."""
    folder = tmp_path / "granted"
    folder.mkdir()
    return make_engine(
        engine.helm,
        local_stack,
        folder,
        engine_cache,
        secret_grant=SecretGrant(PROJECT, ("prometheus-*",)),
        cloud=GoogleCloud.from_environment({"GUNJ_SECRET_MANAGER_ENDPOINT": served.endpoint}),
    )


def test_a_secret_manager_value_reaches_the_release_and_nothing_gunj_says(
    granted_engine: Engine,
    served: ServedSecrets,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = granted_engine
    value = f"sm-{uuid.uuid4().hex}"
    version = f"projects/{PROJECT}/secrets/prometheus-values/versions/4"
    served.payloads[version] = yaml.safe_dump(
        {"server": {"podAnnotations": {ANNOTATION: value}}}
    ).encode()
    entry = {"kind": "GoogleSecretManager", "uri": f"gcpsm://{version}"}
    spec = platform(namespace, prometheus={**SMALL_PROMETHEUS, "valuesFrom": [entry]})
    caplog.set_level(logging.DEBUG)

    outcome = engine.apply(spec)

    assert outcome.result == "ready", outcome
    assert served.asked and set(served.asked) == {version}
    deployment = engine.access.apps.read_namespaced_deployment("obs-prometheus-server", namespace)
    assert deployment.spec.template.metadata.annotations[ANNOTATION] == value
    for text in everything_said(engine, namespace, outcome, caplog, capsys):
        for name, form in every_form(value).items():
            assert form not in text, name
    # What the reconcile read is forgotten with it: the cluster's redactor never learnt it.
    assert engine.reconciler.redactor(value) == value


def test_a_secret_manager_secret_the_registry_does_not_allow_is_refused(
    granted_engine: Engine, served: ServedSecrets, namespace: str
) -> None:
    engine = granted_engine
    refused_uri = f"gcpsm://projects/{PROJECT}/secrets/gunj-kubeconfig-prod/versions/latest"
    served.payloads[refused_uri.removeprefix("gcpsm://")] = b"server: {}\n"
    entry = {"kind": "GoogleSecretManager", "uri": refused_uri}
    spec = platform(namespace, prometheus={**SMALL_PROMETHEUS, "valuesFrom": [entry]})

    outcome = engine.apply(spec)

    assert (outcome.result, outcome.transient) == ("refused", False), outcome
    assert outcome.message == (
        f"spec.prometheus.valuesFrom[0]: {refused_uri}: secret gunj-kubeconfig-prod of project "
        f"{PROJECT} is not allowed on cluster 'local' (field 'secretManager' of its registry "
        f"entry allows project {PROJECT}: prometheus-*)"
    )
    assert served.asked == []
    assert read_platform(engine.access, namespace, "obs") is None
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    assert not engine.helm_runs()


def test_a_secret_the_api_server_quotes_in_a_helm_error_appears_in_no_form(
    engine: Engine,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A quote, a backslash, a line break, a character Go escapes (zero width space) and one it
    # keeps: Go's %q, JSON and the plain text all differ.
    secret = f'tok"en\\{uuid.uuid4().hex}\n\u200b-é'
    document = yaml.safe_dump({"server": {"nodeSelector": {"disk": secret}}})
    engine.access.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="placement"),
            data={"values.yaml": base64.b64encode(document.encode()).decode()},
        ),
    )
    spec = platform(
        namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "valuesFrom": [{"kind": "Secret", "name": "placement"}],
            "remediation": {"retries": 0},
        },
    )
    caplog.set_level(logging.DEBUG)

    outcome = engine.apply(spec)

    assert outcome.result == "failed", outcome
    failure = engine.status(namespace).components["prometheus"].last_failure
    # The API server refused the label value and quoted it; the quote is what is scrubbed.
    assert 'nodeSelector: Invalid value: "***"' in failure, failure
    said = everything_said(engine, namespace, outcome, caplog, capsys)
    said.append(json.dumps(said))  # and as JSON carries it once more
    for text in said:
        for name, form in every_form(secret).items():
            assert form not in text, name

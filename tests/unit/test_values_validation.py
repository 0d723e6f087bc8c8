"""Bad specs, and the problems they must give: every one at once, by field path, with no secret
value echoed back."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.values.validation import InvalidPlatform, load_platform, validate

SECRET = "s3cr3t-value-never-shown"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def document(spec: dict[str, Any], name: str = "obs", **top: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": "mon"},
        "spec": spec,
    }
    base.update(top)
    return base


# id, document, {path: fragment of its message}
BAD: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "wrong apiVersion",
        document({}, apiVersion="observability.io/v1"),
        {"apiVersion": "observability.io/v1beta1"},
    ),
    ("wrong kind", document({}, kind="Platform"), {"kind": "ObservabilityPlatform"}),
    (
        "missing namespace",
        {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": "obs"},
            "spec": {},
        },
        {"metadata.namespace": "required"},
    ),
    ("name not DNS-1123", document({}, name="Obs_1"), {"metadata.name": "not a valid name"}),
    (
        "release name too long",
        document({"prometheus": {}}, name="a" * 43),
        {"metadata.name": "Helm allows 53"},
    ),
    (
        "misspelled field",
        document({"prometheus": {"retension": "15d"}}),
        {"spec.prometheus.retension": "did you mean 'retention'"},
    ),
    (
        "snake_case field",
        document({"prometheus": {"retention_size": "5GB"}}),
        {"spec.prometheus.retention_size": "did you mean 'retentionSize'"},
    ),
    (
        "unknown top-level section",
        document({"promethues": {}}),
        {"spec.promethues": "did you mean 'prometheus'"},
    ),
    (
        "negative replicas",
        document({"grafana": {"replicas": -1}}),
        {"spec.grafana.replicas": "must be >= 0"},
    ),
    (
        "bad quantity",
        document({"prometheus": {"storage": {"size": "10 GB"}}}),
        {"spec.prometheus.storage.size": "not a Kubernetes quantity"},
    ),
    (
        "bad duration",
        document({"loki": {"retention": "31 days"}}),
        {"spec.loki.retention": "not a duration"},
    ),
    (
        "bad timeout",
        document({"tempo": {"timeout": "0s"}}),
        {"spec.tempo.timeout": "not a positive timeout"},
    ),
    (
        "bad app version",
        document({"grafana": {"version": "latest"}}),
        {"spec.grafana.version": "not a version"},
    ),
    (
        "bad chart version range",
        document({"prometheus": {"chartVersion": ">>29"}}),
        {"spec.prometheus.chartVersion": "not a chart version or range"},
    ),
    (
        "plain http repository",
        document({"loki": {"chart": {"repository": "http://charts.example"}}}),
        {"spec.loki.chart.repository": "https://"},
    ),
    (
        "credentials in repository URL",
        {**document({"loki": {"chart": {"repository": f"https://user:{SECRET}@charts.example"}}})},
        {"spec.loki.chart.repository": "credentials do not belong in the URL"},
    ),
    (
        "unknown mode",
        document({"prometheus": {"mode": "kustomize"}}),
        {"spec.prometheus.mode": "one of"},
    ),
    (
        "major auto-upgrade",
        document({"prometheus": {"upgradePolicy": {"auto": "major"}}}),
        {"spec.prometheus.upgradePolicy.auto": "one of"},
    ),
    (
        "remediation",
        document({"tempo": {"remediation": {"retries": 50, "strategy": "ignore"}}}),
        {"spec.tempo.remediation.retries": "<= 10", "spec.tempo.remediation.strategy": "one of"},
    ),
    (
        "bad toleration",
        document({"global": {"tolerations": [{"operator": "Maybe"}]}}),
        {"spec.global.tolerations[0].operator": "one of"},
    ),
    (
        "bad node selector key",
        document({"grafana": {"nodeSelector": {"bad key!": "x"}}}),
        {"spec.grafana.nodeSelector": "not a valid label key"},
    ),
    (
        "bad external label",
        document({"prometheus": {"externalLabels": {"__cluster": "x"}}}),
        {"spec.prometheus.externalLabels": "not valid for Prometheus"},
    ),
    (
        "Grafana admin password in the spec",
        document({"grafana": {"adminPassword": SECRET}}),
        {"spec.grafana.adminPassword": "grafana.adminCredentials.existingSecret"},
    ),
    (
        "password in a remote write",
        document(
            {
                "prometheus": {
                    "remoteWrite": [
                        {
                            "url": "https://m.example",
                            "basicAuth": {"username": "u", "password": SECRET},
                        }
                    ]
                }
            }
        ),
        {
            "spec.prometheus.remoteWrite[0].basicAuth.password": "passwordSecretRef",
            "spec.prometheus.remoteWrite[0].basicAuth.passwordSecretRef": "required",
        },
    ),
    (
        "Authorization header",
        document(
            {
                "prometheus": {
                    "remoteWrite": [
                        {
                            "url": "https://m.example",
                            "headers": {"Authorization": f"Bearer {SECRET}"},
                        }
                    ]
                }
            }
        ),
        {"spec.prometheus.remoteWrite[0].headers.Authorization": "bearerTokenSecretRef"},
    ),
    (
        "S3 key in free-form config",
        document({"loki": {"config": {"loki": {"storage": {"s3": {"secretAccessKey": SECRET}}}}}}),
        {"spec.loki.config.loki.storage.s3.secretAccessKey": "loki.storage.credentialsSecretRef"},
    ),
    (
        "datasource secureJsonData",
        document(
            {
                "grafana": {
                    "datasources": {
                        "extra": [
                            {
                                "name": "x",
                                "type": "prometheus",
                                "secureJsonData": {"password": SECRET},
                            }
                        ]
                    }
                }
            }
        ),
        {
            "spec.grafana.datasources.extra[0].secureJsonData.password": "envFromSecret",
            "spec.grafana.datasources.extra[0].secureJsonData": "unknown field",
        },
    ),
    (
        "token in config",
        document({"tempo": {"config": {"tempo": {"token": SECRET}}}}),
        {"spec.tempo.config.tempo.token": "tempo.valuesFrom"},
    ),
    (
        "both remote write auths",
        document(
            {
                "prometheus": {
                    "remoteWrite": [
                        {
                            "url": "https://m.example",
                            "basicAuth": {
                                "username": "u",
                                "passwordSecretRef": {"name": "a", "key": "b"},
                            },
                            "bearerTokenSecretRef": {"name": "a", "key": "c"},
                        }
                    ]
                }
            }
        ),
        {"spec.prometheus.remoteWrite[0]": "not both"},
    ),
    (
        "remote write URL",
        document({"prometheus": {"remoteWrite": [{"url": "metrics.example"}]}}),
        {"spec.prometheus.remoteWrite[0].url": "not an http(s) URL"},
    ),
    (
        "Loki object storage without buckets",
        document({"loki": {"storage": {"type": "s3"}}}),
        {"spec.loki.storage.bucketNames": "required with storage.type s3"},
    ),
    (
        "Distributed Loki on a filesystem",
        document({"loki": {"deploymentMode": "Distributed"}}),
        {"spec.loki.deploymentMode": "needs object storage"},
    ),
    (
        "several Loki replicas on a filesystem",
        document({"loki": {"replicas": 3}}),
        {"spec.loki.replicas": "needs object storage"},
    ),
    (
        "unknown Loki mode",
        document({"loki": {"deploymentMode": "Microservices"}}),
        {"spec.loki.deploymentMode": "one of"},
    ),
    (
        "Tempo receivers the chart cannot drop",
        document({"tempo": {"receivers": {"jaeger": False, "otlpGrpc": False}}}),
        {
            "spec.tempo.receivers.jaeger": "cannot be turned off",
            "spec.tempo.receivers.otlpGrpc": "cannot be turned off",
        },
    ),
    (
        "metrics generator with nowhere to write",
        document({"tempo": {"metricsGenerator": {"enabled": True}}}),
        {"spec.tempo.metricsGenerator.remoteWriteUrl": "no Prometheus of its own"},
    ),
    (
        "Tempo object storage without a bucket",
        document({"tempo": {"storage": {"backend": "gcs"}}}),
        {"spec.tempo.storage.bucket": "required with storage.backend gcs"},
    ),
    (
        "Grafana ingress without host",
        document({"grafana": {"ingress": {"enabled": True}}}),
        {"spec.grafana.ingress.host": "required"},
    ),
    (
        "duplicate datasource",
        document(
            {
                "prometheus": {},
                "grafana": {
                    "datasources": {
                        "extra": [
                            {"name": "Prometheus", "type": "prometheus", "url": "https://x.example"}
                        ]
                    }
                },
            }
        ),
        {"spec.grafana.datasources.extra[0].name": "exists already"},
    ),
    (
        "valuesFrom",
        document(
            {"prometheus": {"valuesFrom": [{"kind": "Vault", "name": "x", "targetPath": "a..b"}]}}
        ),
        {
            "spec.prometheus.valuesFrom[0].kind": "one of",
            "spec.prometheus.valuesFrom[0].targetPath": "not a values path",
        },
    ),
    (
        "log level",
        document({"global": {"logLevel": "verbose"}}),
        {"spec.global.logLevel": "one of"},
    ),
    (
        "CPU quantity",
        document({"prometheus": {"resources": {"requests": {"cpu": "two"}}}}),
        {"spec.prometheus.resources.requests.cpu": "not a Kubernetes quantity"},
    ),
    (
        "schema periods out of order",
        document({"loki": {"schema": [{"from": "2025-01-01"}, {"from": "2024-01-01"}]}}),
        {"spec.loki.schema": "in order"},
    ),
    (
        "component is not a mapping",
        document({"prometheus": "yes"}),
        {"spec.prometheus": "must be a mapping with fields enabled"},
    ),
]


@pytest.mark.parametrize(("doc", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_spec_lists_its_problems(doc: dict[str, Any], expected: dict[str, str]) -> None:
    result = validate(doc)

    assert result.platform is None
    found = {problem.path: problem.message for problem in result.problems}
    assert set(found) == set(expected), found
    for path, fragment in expected.items():
        assert fragment in found[path], (path, found[path])
    assert all(SECRET not in str(problem) for problem in result.problems)


def test_all_problems_of_a_document_are_listed_together() -> None:
    merged: dict[str, Any] = document({})
    expected: set[str] = set()
    for _, doc, paths in BAD:
        if doc.get("metadata") == merged["metadata"] and doc["apiVersion"] == merged["apiVersion"]:
            for section, content in doc["spec"].items():
                if section not in merged["spec"]:
                    merged["spec"][section] = copy.deepcopy(content)
                    expected |= {p for p in paths if p.startswith(f"spec.{section}")}

    found = {problem.path for problem in validate(merged).problems}

    assert expected <= found


def test_deprecated_loki_mode_is_accepted_with_a_warning() -> None:
    result = validate(
        document(
            {
                "loki": {
                    "deploymentMode": "SimpleScalable",
                    "storage": {"type": "s3", "bucketNames": {"chunks": "c"}},
                }
            }
        )
    )

    assert result.ok
    assert [w.path for w in result.warnings] == ["spec.loki.deploymentMode"]
    assert "removed in Loki 4" in result.warnings[0].message


def test_annotations_naming_a_secret_are_not_secrets() -> None:
    result = validate(
        document(
            {
                "grafana": {
                    "adminCredentials": {"existingSecret": "admin"},
                    "ingress": {
                        "host": "g.example.com",
                        "annotations": {"nginx.ingress.kubernetes.io/auth-secret": "basic"},
                    },
                }
            }
        )
    )

    assert result.ok, result.problems


def test_examples_are_valid_and_invalid_as_named() -> None:
    assert load_platform((EXAMPLES / "minimal.yaml").read_text()).metadata.name == "obs"
    assert load_platform((EXAMPLES / "production.yaml").read_text()).metadata.name == "prod"
    with pytest.raises(InvalidPlatform) as raised:
        load_platform((EXAMPLES / "invalid.yaml").read_text())
    assert len(raised.value.problems) >= 10


def _gunj(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_validate_exit_codes_and_no_secret_echo(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            document({"grafana": {"adminPassword": SECRET}, "prometheus": {"replicas": -2}})
        )
    )

    good = _gunj("validate", str(EXAMPLES / "production.yaml"))
    failed = _gunj("validate", str(bad))

    assert good.returncode == 0
    assert "valid" in good.stdout
    assert failed.returncode == 1
    assert "spec.grafana.adminPassword" in failed.stdout
    assert "spec.prometheus.replicas" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr
    assert SECRET not in failed.stdout + failed.stderr


def test_cli_validate_reports_broken_yaml_by_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: observability.io/v1beta1\nspec: [unclosed\n")

    result = _gunj("validate", str(broken))

    assert result.returncode == 1
    assert "spec[1] (line 3, column 1): not valid YAML: did not find expected ','" in result.stdout


def test_cli_plan_offline_shows_references_not_secrets() -> None:
    result = _gunj("plan", "--offline", str(EXAMPLES / "production.yaml"))

    assert result.returncode == 0, result.stderr
    for component in ("prometheus", "loki", "tempo", "grafana"):
        assert f"{component}: release prod-{component} in namespace observability" in result.stdout
    assert "Secret remote-write-credentials key password" in result.stdout
    assert "password_file: /etc/secrets/remote-write-credentials/password" in result.stdout
    assert "ConfigMap grafana-smtp key values.yaml" in result.stdout


def test_grafana_without_admin_credentials_is_accepted_with_what_each_mode_does() -> None:
    result = validate(document({"grafana": {}}))

    assert result.ok
    warning = next(w for w in result.warnings if w.path == "spec.grafana.adminCredentials")
    assert "random admin password" in warning.message
    assert "native mode Grafana starts with no admin user" in warning.message

"""Each spec field, and the Helm values it produces."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from shared.values.merge import effective, parse_path
from shared.values.plan import ComponentPlan, plan_platform, values_from_layer
from shared.values.spec.common import ValuesFrom
from shared.values.validation import validate

SECRET_FILE = "/etc/secrets/rw/password"
# Specs that more than one case reads a different value from.
BASIC_AUTH_REMOTE_WRITE = {
    "prometheus": {
        "remoteWrite": [
            {
                "url": "https://m.example/push",
                "basicAuth": {
                    "username": "u",
                    "passwordSecretRef": {"name": "rw", "key": "password"},
                },
            }
        ]
    }
}
GRAFANA_DATABASE = {
    "database": {
        "type": "postgres",
        "host": "db:5432",
        "name": "grafana",
        "user": "grafana",
        "passwordSecretRef": {"name": "grafana-db", "key": "password"},
    }
}
DISTRIBUTED_LOKI = {
    "loki": {
        "deploymentMode": "Distributed",
        "replicas": 2,
        "storage": {"type": "gcs", "bucketNames": {"chunks": "c"}},
    }
}


def platform(spec: dict[str, Any], name: str = "obs", namespace: str = "mon") -> Any:
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    result = validate(document)
    assert result.ok, [str(p) for p in result.problems]
    return result.platform


def plan_for(spec: dict[str, Any], component: str) -> ComponentPlan:
    return next(p for p in plan_platform(platform(spec)) if p.component == component)


def dig(values: Any, path: str) -> Any:
    for key in parse_path(path):
        values = values[key]
    return values


# (spec, component, values path, expected value)
CASES: list[tuple[str, dict[str, Any], str, str, Any]] = [
    # --- every component: scheduling, resources, overrides ---------------------------------
    ("replicas", {"prometheus": {"replicas": 2}}, "prometheus", "server.replicaCount", 2),
    (
        "replicas>1 uses a StatefulSet",
        {"prometheus": {"replicas": 2}},
        "prometheus",
        "server.statefulSet.enabled",
        True,
    ),
    (
        "replicas>1 without volumes stays a Deployment",
        {"prometheus": {"replicas": 2, "storage": {"enabled": False}}},
        "prometheus",
        "server.statefulSet.enabled",
        False,
    ),
    (
        "resources merge over gunj's default requests",
        {"prometheus": {"resources": {"limits": {"memory": "8Gi"}}}},
        "prometheus",
        "server.resources",
        {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "8Gi"}},
    ),
    ("retention", {"prometheus": {"retention": "30d"}}, "prometheus", "server.retention", "30d"),
    (
        "nodeSelector merges over global",
        {
            "global": {"nodeSelector": {"pool": "obs", "zone": "a"}},
            "prometheus": {"nodeSelector": {"zone": "b"}},
        },
        "prometheus",
        "server.nodeSelector",
        {"pool": "obs", "zone": "b"},
    ),
    (
        "tolerations add to global",
        {
            "global": {"tolerations": [{"key": "a", "operator": "Exists"}]},
            "tempo": {"tolerations": [{"key": "b", "value": "x", "effect": "NoSchedule"}]},
        },
        "tempo",
        "tolerations",
        [
            {"key": "a", "operator": "Exists"},
            {"key": "b", "operator": "Equal", "value": "x", "effect": "NoSchedule"},
        ],
    ),
    (
        "affinity",
        {"grafana": {"affinity": {"nodeAffinity": {"x": 1}}}},
        "grafana",
        "affinity",
        {"nodeAffinity": {"x": 1}},
    ),
    (
        "config wins over derived values",
        {"prometheus": {"retention": "15d", "config": {"server": {"retention": "1d"}}}},
        "prometheus",
        "server.retention",
        "1d",
    ),
    (
        "config null deletes a key",
        {"prometheus": {"config": {"server": {"resources": None}}}},
        "prometheus",
        "server.resources",
        None,
    ),
    # --- Prometheus --------------------------------------------------------------------------
    (
        "storage",
        {"prometheus": {"storage": {"size": "50Gi", "storageClassName": "ssd"}}},
        "prometheus",
        "server.persistentVolume",
        {"enabled": True, "size": "50Gi", "storageClass": "ssd"},
    ),
    (
        "retentionSize",
        {"prometheus": {"retentionSize": "45GB"}},
        "prometheus",
        "server.retentionSize",
        "45GB",
    ),
    (
        "scrapeInterval",
        {"prometheus": {"scrapeInterval": "15s"}},
        "prometheus",
        "server.global.scrape_interval",
        "15s",
    ),
    (
        "externalLabels over global ones",
        {
            "global": {"externalLabels": {"cluster": "a", "env": "prod"}},
            "prometheus": {"externalLabels": {"cluster": "b"}},
        },
        "prometheus",
        "server.global.external_labels",
        {"cluster": "b", "env": "prod"},
    ),
    (
        "remote write basic auth reads a mounted file",
        BASIC_AUTH_REMOTE_WRITE,
        "prometheus",
        "server.remoteWrite[0].basic_auth",
        {"username": "u", "password_file": SECRET_FILE},
    ),
    (
        "remote write secret is mounted, not copied",
        BASIC_AUTH_REMOTE_WRITE,
        "prometheus",
        "server.extraSecretMounts",
        [
            {
                "name": "secret-rw",
                "mountPath": "/etc/secrets/rw",
                "secretName": "rw",
                "readOnly": True,
            }
        ],
    ),
    (
        "remote write bearer token",
        {
            "prometheus": {
                "remoteWrite": [
                    {
                        "url": "https://m.example/push",
                        "bearerTokenSecretRef": {"name": "t", "key": "token"},
                    }
                ]
            }
        },
        "prometheus",
        "server.remoteWrite[0].authorization",
        {"type": "Bearer", "credentials_file": "/etc/secrets/t/token"},
    ),
    (
        "remote write options",
        {
            "prometheus": {
                "remoteWrite": [
                    {
                        "url": "https://m.example/push",
                        "name": "central",
                        "headers": {"X-Scope-OrgID": "t1"},
                        "remoteTimeout": "30s",
                        "queueConfig": {"capacity": 10},
                        "writeRelabelConfigs": [{"action": "drop"}],
                    }
                ]
            }
        },
        "prometheus",
        "server.remoteWrite[0]",
        {
            "url": "https://m.example/push",
            "name": "central",
            "headers": {"X-Scope-OrgID": "t1"},
            "remote_timeout": "30s",
            "queue_config": {"capacity": 10},
            "write_relabel_configs": [{"action": "drop"}],
        },
    ),
    (
        "bundled components",
        {"prometheus": {"alertmanager": {"enabled": False}, "pushgateway": {"enabled": True}}},
        "prometheus",
        "alertmanager.enabled",
        False,
    ),
    (
        "pushgateway",
        {"prometheus": {"pushgateway": {"enabled": True}}},
        "prometheus",
        "prometheus-pushgateway.enabled",
        True,
    ),
    (
        "node exporter",
        {"prometheus": {"nodeExporter": {"enabled": False}}},
        "prometheus",
        "prometheus-node-exporter.enabled",
        False,
    ),
    (
        "kube-state-metrics",
        {"prometheus": {"kubeStateMetrics": {"enabled": False}}},
        "prometheus",
        "kube-state-metrics.enabled",
        False,
    ),
    (
        "log level",
        {"global": {"logLevel": "debug"}, "prometheus": {}},
        "prometheus",
        "server.extraFlags",
        ["web.enable-lifecycle", "log.level=debug"],
    ),
    (
        "Tempo in the platform opens the remote-write receiver",
        {"prometheus": {}, "tempo": {}},
        "prometheus",
        "server.extraFlags",
        ["web.enable-lifecycle", "log.level=info", "web.enable-remote-write-receiver"],
    ),
    # --- Grafana -----------------------------------------------------------------------------
    (
        "admin credentials",
        {"grafana": {"adminCredentials": {"existingSecret": "admin"}}},
        "grafana",
        "admin",
        {"existingSecret": "admin", "userKey": "admin-user", "passwordKey": "admin-password"},
    ),
    (
        "dashboards sidecar",
        {"grafana": {"dashboards": {"sidecar": {"enabled": True, "searchNamespace": "ALL"}}}},
        "grafana",
        "sidecar.dashboards",
        {
            "enabled": True,
            "label": "grafana_dashboard",
            "labelValue": "1",
            "searchNamespace": "ALL",
        },
    ),
    (
        "ingress",
        {
            "grafana": {
                "ingress": {
                    "host": "g.example.com",
                    "className": "nginx",
                    "tlsSecretName": "g-tls",
                    "annotations": {"a": "b"},
                }
            }
        },
        "grafana",
        "ingress",
        {
            "enabled": True,
            "hosts": ["g.example.com"],
            "annotations": {"a": "b"},
            "ingressClassName": "nginx",
            "tls": [{"secretName": "g-tls", "hosts": ["g.example.com"]}],
        },
    ),
    (
        "ingress sets the root URL",
        {"grafana": {"ingress": {"host": "g.example.com"}}},
        "grafana",
        r"grafana\.ini.server.root_url",
        "http://g.example.com/",
    ),
    (
        "persistence",
        {"grafana": {"persistence": {"size": "5Gi", "storageClassName": "ssd"}}},
        "grafana",
        "persistence",
        {"enabled": True, "size": "5Gi", "storageClassName": "ssd"},
    ),
    ("plugins", {"grafana": {"plugins": ["a-panel"]}}, "grafana", "plugins", ["a-panel"]),
    (
        "envFromSecret",
        {"grafana": {"envFromSecret": "grafana-env"}},
        "grafana",
        "envFromSecret",
        "grafana-env",
    ),
    (
        "Grafana tests",
        {"grafana": {"tests": {"enabled": False}}},
        "grafana",
        "testFramework.enabled",
        False,
    ),
    (
        "Grafana log level",
        {"global": {"logLevel": "warn"}, "grafana": {}},
        "grafana",
        r"grafana\.ini.log.level",
        "warn",
    ),
    (
        "Grafana replicas",
        {"grafana": {"replicas": 2, **GRAFANA_DATABASE}},
        "grafana",
        "replicas",
        2,
    ),
    # --- Loki --------------------------------------------------------------------------------
    ("Monolithic", {"loki": {"replicas": 1}}, "loki", "singleBinary.replicas", 1),
    (
        "SingleBinary is Monolithic",
        {"loki": {"deploymentMode": "SingleBinary"}},
        "loki",
        "deploymentMode",
        "Monolithic",
    ),
    (
        "SimpleScalable replicas",
        {
            "loki": {
                "deploymentMode": "SimpleScalable",
                "replicas": 3,
                "storage": {"type": "s3", "bucketNames": {"chunks": "c"}},
            }
        },
        "loki",
        "write.replicas",
        3,
    ),
    (
        "Distributed runs no single binary",
        DISTRIBUTED_LOKI,
        "loki",
        "singleBinary.replicas",
        0,
    ),
    (
        "Distributed ingesters",
        DISTRIBUTED_LOKI,
        "loki",
        "ingester.replicas",
        2,
    ),
    (
        "s3 storage",
        {
            "loki": {
                "storage": {
                    "type": "s3",
                    "bucketNames": {"chunks": "c"},
                    "s3": {"endpoint": "s3.example", "region": "eu", "forcePathStyle": True},
                }
            }
        },
        "loki",
        "loki.storage",
        {
            "type": "s3",
            "bucketNames": {"chunks": "c", "ruler": "c", "admin": "c"},
            "s3": {
                "insecure": False,
                "s3ForcePathStyle": True,
                "endpoint": "s3.example",
                "region": "eu",
            },
        },
    ),
    (
        "azure storage",
        {
            "loki": {
                "storage": {
                    "type": "azure",
                    "bucketNames": {"chunks": "c"},
                    "azure": {"accountName": "acct", "useManagedIdentity": True},
                }
            }
        },
        "loki",
        "loki.storage.azure",
        {"useManagedIdentity": True, "accountName": "acct"},
    ),
    (
        "storage credentials become environment",
        {
            "loki": {
                "storage": {
                    "type": "s3",
                    "bucketNames": {"chunks": "c"},
                    "credentialsSecretRef": {"name": "loki-s3"},
                }
            }
        },
        "loki",
        "global.extraEnvFrom",
        [{"secretRef": {"name": "loki-s3"}}],
    ),
    (
        "volume size",
        {"loki": {"storage": {"size": "20Gi", "storageClassName": "ssd"}}},
        "loki",
        "singleBinary.persistence",
        {"size": "20Gi", "storageClass": "ssd"},
    ),
    (
        "retention enables the compactor",
        {"loki": {"retention": "744h"}},
        "loki",
        "loki.compactor",
        {"retention_enabled": True, "delete_request_store": "filesystem"},
    ),
    (
        "retention period",
        {"loki": {"retention": "744h"}},
        "loki",
        "loki.limits_config.retention_period",
        "744h",
    ),
    (
        "schema",
        {"loki": {"schema": [{"from": "2025-01-01", "schema": "v13"}]}},
        "loki",
        "loki.schemaConfig.configs",
        [
            {
                "from": "2025-01-01",
                "store": "tsdb",
                "object_store": "filesystem",
                "schema": "v13",
                "index": {"prefix": "index_", "period": "24h"},
            }
        ],
    ),
    (
        "replication follows replicas",
        {"loki": {"replicas": 3, "storage": {"type": "s3", "bucketNames": {"chunks": "c"}}}},
        "loki",
        "loki.commonConfig.replication_factor",
        3,
    ),
    (
        "Loki tests need the canary",
        {"loki": {"tests": {"enabled": True}}},
        "loki",
        "lokiCanary.enabled",
        True,
    ),
    (
        "Loki log level",
        {"global": {"logLevel": "error"}, "loki": {}},
        "loki",
        "loki.server.log_level",
        "error",
    ),
    # --- Tempo -------------------------------------------------------------------------------
    (
        "zipkin receiver",
        {"tempo": {"receivers": {"zipkin": True}}},
        "tempo",
        "tempo.receivers.zipkin",
        {"endpoint": "0.0.0.0:9411"},
    ),
    (
        "metrics generator writes to the platform's Prometheus",
        {"prometheus": {}, "tempo": {"metricsGenerator": {"enabled": True}}},
        "tempo",
        "tempo.metricsGenerator",
        {"enabled": True, "remoteWriteUrl": "http://obs-prometheus-server.mon.svc:80/api/v1/write"},
    ),
    (
        "metrics generator to another URL",
        {"tempo": {"metricsGenerator": {"remoteWriteUrl": "https://m.example/api/v1/write"}}},
        "tempo",
        "tempo.metricsGenerator.remoteWriteUrl",
        "https://m.example/api/v1/write",
    ),
    (
        "s3 traces",
        {"tempo": {"storage": {"backend": "s3", "bucket": "t", "region": "eu", "insecure": True}}},
        "tempo",
        "tempo.storage.trace",
        {"backend": "s3", "s3": {"bucket": "t", "insecure": True, "region": "eu"}},
    ),
    (
        "gcs traces",
        {"tempo": {"storage": {"backend": "gcs", "bucket": "t"}}},
        "tempo",
        "tempo.storage.trace.gcs",
        {"bucket_name": "t"},
    ),
    (
        "Tempo credentials",
        {
            "tempo": {
                "storage": {
                    "backend": "s3",
                    "bucket": "t",
                    "credentialsSecretRef": {"name": "tempo-s3"},
                }
            }
        },
        "tempo",
        "tempo.extraEnvFrom",
        [{"secretRef": {"name": "tempo-s3"}}],
    ),
    (
        "Tempo volume",
        {"tempo": {"storage": {"size": "10Gi"}}},
        "tempo",
        "persistence",
        {"enabled": True, "size": "10Gi"},
    ),
    ("Tempo retention", {"tempo": {"retention": "336h"}}, "tempo", "tempo.retention", "336h"),
    (
        "Tempo resources",
        {"tempo": {"resources": {"requests": {"cpu": "1"}}}},
        "tempo",
        "tempo.resources",
        {"requests": {"cpu": "1"}},
    ),
    (
        "Tempo log level",
        {"global": {"logLevel": "debug"}, "tempo": {}},
        "tempo",
        "tempo.server.log_level",
        "debug",
    ),
]


@pytest.mark.parametrize(
    ("spec", "component", "path", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_field_produces_values(
    spec: dict[str, Any], component: str, path: str, expected: Any
) -> None:
    assert dig(plan_for(spec, component).values, path) == expected


def test_null_deletion_reaches_helm_and_leaves_no_effective_key() -> None:
    values = plan_for(
        {"prometheus": {"config": {"server": {"resources": None}}}}, "prometheus"
    ).values

    assert values["server"]["resources"] is None
    assert "resources" not in effective(values)["server"]


def test_additional_scrape_configs_become_the_charts_yaml_string() -> None:
    jobs = [{"job_name": "blackbox", "static_configs": [{"targets": ["a:1"]}]}]

    values = plan_for({"prometheus": {"additionalScrapeConfigs": jobs}}, "prometheus").values

    assert yaml.safe_load(values["extraScrapeConfigs"]) == jobs


def test_generated_datasources_point_at_the_platforms_services() -> None:
    spec = {"prometheus": {}, "loki": {}, "tempo": {}, "grafana": {}}

    sources = plan_for(spec, "grafana").values["datasources"]["datasources.yaml"]["datasources"]

    assert {s["name"]: s["url"] for s in sources} == {
        "Prometheus": "http://obs-prometheus-server.mon.svc:80",
        "Loki": "http://obs-loki-gateway.mon.svc:80",
        "Tempo": "http://obs-tempo.mon.svc:3200",
    }
    tempo = next(s for s in sources if s["name"] == "Tempo")
    assert tempo["jsonData"] == {
        "tracesToLogsV2": {"datasourceUid": "loki"},
        "serviceMap": {"datasourceUid": "prometheus"},
    }


def test_loki_datasource_follows_a_disabled_gateway() -> None:
    spec = {"loki": {"config": {"gateway": {"enabled": False}}}, "grafana": {}}

    sources = plan_for(spec, "grafana").values["datasources"]["datasources.yaml"]["datasources"]

    assert sources == [
        {
            "name": "Loki",
            "type": "loki",
            "uid": "loki",
            "url": "http://obs-loki.mon.svc:3100",
            "access": "proxy",
        }
    ]


def test_extra_default_datasource_takes_over_from_prometheus() -> None:
    spec = {
        "prometheus": {},
        "grafana": {
            "datasources": {
                "extra": [
                    {
                        "name": "Mimir",
                        "type": "prometheus",
                        "url": "https://mimir.example",
                        "isDefault": True,
                    }
                ]
            }
        },
    }

    sources = plan_for(spec, "grafana").values["datasources"]["datasources.yaml"]["datasources"]

    assert [(s["name"], s["isDefault"]) for s in sources] == [
        ("Prometheus", False),
        ("Mimir", True),
    ]


def test_datasources_can_be_all_extra() -> None:
    spec = {
        "prometheus": {},
        "grafana": {
            "datasources": {
                "generate": False,
                "extra": [{"name": "Mimir", "type": "prometheus", "url": "https://mimir.example"}],
            }
        },
    }

    sources = plan_for(spec, "grafana").values["datasources"]["datasources.yaml"]["datasources"]

    assert [s["name"] for s in sources] == ["Mimir"]


def test_plan_carries_chart_version_mode_and_source() -> None:
    plan = plan_for(
        {
            "global": {"mode": "native"},
            "prometheus": {
                "version": "v3.14.0",
                "chartVersion": "~29.27",
                "chart": {"repository": "oci://registry.example/charts", "name": "prometheus"},
                "timeout": "10m",
            },
        },
        "prometheus",
    )

    assert (plan.release, plan.namespace, plan.mode) == ("obs-prometheus", "mon", "native")
    assert (plan.repository, plan.chart) == ("oci://registry.example/charts", "prometheus")
    assert (plan.chart_version, plan.app_version) == ("~29.27", "3.14.0")
    assert plan.spec.timeout == "10m"


def test_default_chart_is_upstream_in_the_supported_major() -> None:
    plan = plan_for({"grafana": {}}, "grafana")

    assert plan.repository == "https://grafana-community.github.io/helm-charts"
    assert plan.chart_version == ">=12.0.0 <13.0.0"


def test_values_from_sit_between_derived_values_and_config() -> None:
    plan = plan_for(
        {
            "prometheus": {
                "retention": "15d",
                "config": {"server": {"replicaCount": 3}},
                "valuesFrom": [{"kind": "Secret", "name": "v"}],
            }
        },
        "prometheus",
    )
    layer = values_from_layer(plan.values_from[0], "server:\n  retention: 2d\n  replicaCount: 9\n")

    complete = plan.complete_values([layer])

    assert complete["server"]["retention"] == "2d"  # valuesFrom wins over the spec
    assert complete["server"]["replicaCount"] == 3  # config wins over valuesFrom


def test_values_from_target_path_places_one_value() -> None:
    reference = ValuesFrom.model_validate(
        {"kind": "Secret", "name": "s", "key": "url", "targetPath": "server.remoteWrite[0].url"}
    )

    assert values_from_layer(reference, "https://x") == {
        "server": {"remoteWrite": [{"url": "https://x"}]}
    }


def test_values_from_without_path_must_hold_a_mapping() -> None:
    reference = ValuesFrom.model_validate({"kind": "ConfigMap", "name": "c", "key": "k"})

    with pytest.raises(ValueError, match="does not hold a YAML mapping"):
        values_from_layer(reference, "- a list\n")


def test_disabled_components_get_no_plan() -> None:
    plans = plan_platform(platform({"prometheus": {"enabled": False}, "loki": {}, "grafana": {}}))

    assert [p.component for p in plans] == ["loki", "grafana"]

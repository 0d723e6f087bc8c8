"""Spec fields that end up in a component's own configuration file: typed, translated from the
spec's camelCase to the component's own names, and refused by field path when unknown."""

from __future__ import annotations

from typing import Any

import pytest

from shared.values.plan import plan_platform
from shared.values.validation import load_platform, validate
from tests.unit.test_values_fields import GRAFANA_DATABASE, dig, plan_for
from tests.unit.test_values_validation import EXAMPLES, document


def remote_write(**fields: Any) -> dict[str, Any]:
    return {"prometheus": {"remoteWrite": [{"url": "https://m.example/push", **fields}]}}


def problems_of(spec: dict[str, Any]) -> dict[str, str]:
    return {p.path: p.message for p in validate(document(spec)).problems}


def production() -> dict[str, Any]:
    plans = plan_platform(load_platform((EXAMPLES / "production.yaml").read_text()))
    return {plan.component: plan.values for plan in plans}


# --- Prometheus remote write ----------------------------------------------------------------


def test_production_queue_config_reaches_prometheus_under_its_own_names() -> None:
    entry = production()["prometheus"]["server"]["remoteWrite"][0]

    assert entry["queue_config"] == {
        "max_shards": 50,
        "max_samples_per_send": 2000,
        "retry_on_http_429": True,
    }
    assert entry["remote_timeout"] == "30s"
    assert entry["write_relabel_configs"] == [
        {"source_labels": ["__name__"], "regex": "go_gc_.*", "action": "drop"}
    ]


def test_every_queue_config_field_is_translated() -> None:
    queue = {
        "capacity": 10000,
        "maxShards": 50,
        "minShards": 1,
        "maxSamplesPerSend": 2000,
        "batchSendDeadline": "5s",
        "minBackoff": "30ms",
        "maxBackoff": "5s",
        "retryOnHttp429": True,
    }

    values = plan_for(remote_write(queueConfig=queue), "prometheus").values

    assert dig(values, "server.remoteWrite[0].queue_config") == {
        "capacity": 10000,
        "max_shards": 50,
        "min_shards": 1,
        "max_samples_per_send": 2000,
        "batch_send_deadline": "5s",
        "min_backoff": "30ms",
        "max_backoff": "5s",
        "retry_on_http_429": True,
    }


def test_every_relabel_field_is_translated() -> None:
    relabel = {
        "sourceLabels": ["__name__", "job"],
        "separator": ";",
        "regex": "(.*);(.*)",
        "targetLabel": "shard",
        "replacement": "$1",
        "action": "hashmod",
        "modulus": 4,
    }

    values = plan_for(remote_write(writeRelabelConfigs=[relabel]), "prometheus").values

    assert dig(values, "server.remoteWrite[0].write_relabel_configs") == [
        {
            "source_labels": ["__name__", "job"],
            "separator": ";",
            "regex": "(.*);(.*)",
            "target_label": "shard",
            "replacement": "$1",
            "action": "hashmod",
            "modulus": 4,
        }
    ]


@pytest.mark.parametrize(
    ("fields", "path", "fragment"),
    [
        (
            {"queueConfig": {"maxSamplesPerSecond": 2000}},
            "spec.prometheus.remoteWrite[0].queueConfig.maxSamplesPerSecond",
            "did you mean 'maxSamplesPerSend'",
        ),
        (
            {"queueConfig": {"max_samples_per_send": 2000}},
            "spec.prometheus.remoteWrite[0].queueConfig.max_samples_per_send",
            "did you mean 'maxSamplesPerSend'",
        ),
        (
            {"queueConfig": {"maxShards": 0}},
            "spec.prometheus.remoteWrite[0].queueConfig.maxShards",
            ">= 1",
        ),
        (
            {"queueConfig": {"minBackoff": "fast"}},
            "spec.prometheus.remoteWrite[0].queueConfig.minBackoff",
            "not a duration",
        ),
        (
            {"writeRelabelConfigs": [{"source_labels": ["a"], "action": "drop"}]},
            "spec.prometheus.remoteWrite[0].writeRelabelConfigs[0].source_labels",
            "did you mean 'sourceLabels'",
        ),
        (
            {"writeRelabelConfigs": [{"action": "delete"}]},
            "spec.prometheus.remoteWrite[0].writeRelabelConfigs[0].action",
            "one of",
        ),
        (
            {"writeRelabelConfigs": [{"sourceLabels": ["a"], "regex": "x"}]},
            "spec.prometheus.remoteWrite[0].writeRelabelConfigs[0].targetLabel",
            "required with action replace",
        ),
        (
            {"writeRelabelConfigs": [{"action": "hashmod", "targetLabel": "s"}]},
            "spec.prometheus.remoteWrite[0].writeRelabelConfigs[0].modulus",
            "required with action hashmod",
        ),
        (
            {"remoteTimeout": "thirty seconds"},
            "spec.prometheus.remoteWrite[0].remoteTimeout",
            "not a duration",
        ),
    ],
)
def test_remote_write_mistakes_are_refused_by_field_path(
    fields: dict[str, Any], path: str, fragment: str
) -> None:
    found = problems_of(remote_write(**fields))

    assert path in found, found
    assert fragment in found[path]


def test_scrape_configs_need_unique_job_names() -> None:
    found = problems_of(
        {
            "prometheus": {
                "additionalScrapeConfigs": [
                    {"job_name": "a", "static_configs": [{"targets": ["x:1"]}]},
                    {"job_name": "a"},
                    {"metrics_path": "/m"},
                ]
            }
        }
    )

    assert set(found) == {
        "spec.prometheus.additionalScrapeConfigs[1].job_name",
        "spec.prometheus.additionalScrapeConfigs[2].job_name",
    }


# --- Prometheus high availability -------------------------------------------------------------


def test_production_replicas_carry_their_pod_name_and_the_shared_labels() -> None:
    server = production()["prometheus"]["server"]

    assert server["global"]["external_labels"] == {
        "cluster": "prod-eu-west-1",
        "environment": "production",
        "replica_set": "prom-ha",
        "replica": "${POD_NAME}",
    }
    assert server["env"] == [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    ]


def test_a_single_server_gets_no_replica_label() -> None:
    server = plan_for({"prometheus": {"externalLabels": {"cluster": "c"}}}, "prometheus").values[
        "server"
    ]

    assert server["global"]["external_labels"] == {"cluster": "c"}
    assert "env" not in server


def test_replica_label_cannot_be_set_by_hand_nor_left_alone() -> None:
    taken = problems_of({"prometheus": {"replicas": 2, "externalLabels": {"replica": "a"}}})
    alone = problems_of(
        {"prometheus": {"replicas": 2, "remoteWrite": [{"url": "https://m.example/push"}]}}
    )

    assert "is the replica label" in taken["spec.prometheus.externalLabels"]
    assert "deduplicates" in alone["spec.prometheus.externalLabels"]


# --- Tempo overrides ------------------------------------------------------------------------


def test_metrics_generator_turns_on_its_processors_for_every_tenant() -> None:
    tempo = production()["tempo"]["tempo"]

    assert tempo["overrides"]["defaults"]["metrics_generator"] == {
        "processors": ["service-graphs", "span-metrics"]
    }
    assert tempo["overrides"]["defaults"]["global"] == {"max_bytes_per_trace": 5000000}


def test_processors_default_on_and_can_be_chosen() -> None:
    default = plan_for({"prometheus": {}, "tempo": {"metricsGenerator": {}}}, "tempo").values
    chosen = plan_for(
        {"prometheus": {}, "tempo": {"metricsGenerator": {"processors": ["local-blocks"]}}},
        "tempo",
    ).values

    assert dig(default, "tempo.overrides.defaults.metrics_generator.processors") == [
        "service-graphs",
        "span-metrics",
    ]
    assert dig(chosen, "tempo.overrides.defaults.metrics_generator.processors") == ["local-blocks"]


def test_no_generator_no_processors() -> None:
    values = plan_for({"tempo": {}}, "tempo").values

    assert "overrides" not in values["tempo"]


def test_tempo_limits_are_translated_and_checked() -> None:
    limits = {
        "ingestion": {"rateLimitBytes": 15000000, "maxTracesPerUser": 10000},
        "read": {"maxSearchDuration": "168h"},
        "global": {"maxBytesPerTrace": 5000000},
    }

    values = plan_for({"tempo": {"limits": limits}}, "tempo").values
    typed = problems_of(
        {"tempo": {"limits": {"read": {"maxSearchDuration": "7d"}, "ingestion": {"rateLimit": 1}}}}
    )
    ruled = problems_of(
        {"prometheus": {}, "tempo": {"retention": "14d", "metricsGenerator": {"processors": []}}}
    )

    assert values["tempo"]["overrides"] == {
        "defaults": {
            "ingestion": {"rate_limit_bytes": 15000000, "max_traces_per_user": 10000},
            "read": {"max_search_duration": "168h"},
            "global": {"max_bytes_per_trace": 5000000},
        }
    }
    assert "did you mean 'rateLimitBytes'" in typed["spec.tempo.limits.ingestion.rateLimit"]
    assert "not a duration" in typed["spec.tempo.limits.read.maxSearchDuration"]
    assert "derives nothing" in ruled["spec.tempo.metricsGenerator.processors"]
    assert "Go durations" in ruled["spec.tempo.retention"]


# --- Loki limits ----------------------------------------------------------------------------


def test_loki_limits_are_translated_next_to_retention() -> None:
    values = plan_for(
        {
            "loki": {
                "retention": "744h",
                "limits": {
                    "ingestionRateMb": 16,
                    "perStreamRateLimit": "5MB",
                    "maxQueryLookback": "744h",
                    "rejectOldSamples": True,
                },
            }
        },
        "loki",
    ).values

    assert values["loki"]["limits_config"] == {
        "ingestion_rate_mb": 16,
        "per_stream_rate_limit": "5MB",
        "max_query_lookback": "744h",
        "reject_old_samples": True,
        "retention_period": "744h",
    }


def test_loki_limit_mistakes_are_refused_by_field_path() -> None:
    found = problems_of(
        {"loki": {"limits": {"ingestion_rate_mb": 4, "maxLineSize": "big", "maxQuerySeries": 0}}}
    )

    assert "did you mean 'ingestionRateMb'" in found["spec.loki.limits.ingestion_rate_mb"]
    assert "not a size" in found["spec.loki.limits.maxLineSize"]
    assert ">= 1" in found["spec.loki.limits.maxQuerySeries"]


# --- Grafana --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["postgres", "grafana-postgresql-datasource", "mysql", "mssql"])
def test_sql_datasources_take_host_and_port(kind: str) -> None:
    source = {"name": "DB", "type": kind, "url": "db.example.com:5432", "user": "reader"}

    values = plan_for({"grafana": {"datasources": {"extra": [source]}}}, "grafana").values

    sources = values["datasources"]["datasources.yaml"]["datasources"]
    assert sources[-1]["url"] == "db.example.com:5432"
    assert sources[-1]["user"] == "reader"


def test_datasource_urls_follow_the_datasource_type() -> None:
    found = problems_of(
        {
            "grafana": {
                "datasources": {
                    "extra": [
                        {"name": "a", "type": "postgres", "url": "postgres://db:5432/x"},
                        {"name": "b", "type": "prometheus", "url": "db:5432"},
                    ]
                }
            }
        }
    )

    assert "not host:port" in found["spec.grafana.datasources.extra[0].url"]
    assert "not an http(s) URL" in found["spec.grafana.datasources.extra[1].url"]


def test_production_grafana_shares_a_database_and_no_volume() -> None:
    grafana = production()["grafana"]

    assert grafana["replicas"] == 2
    assert grafana["persistence"] == {"enabled": False}
    assert grafana["grafana.ini"]["database"] == {
        "type": "postgres",
        "host": "grafana-db.observability.svc:5432",
        "name": "grafana",
        "user": "grafana",
        "password": "$__file{/etc/secrets/grafana-db/password}",
        "ssl_mode": "require",
    }
    assert grafana["extraSecretMounts"] == [
        {
            "name": "secret-grafana-db",
            "secretName": "grafana-db",
            "mountPath": "/etc/secrets/grafana-db",
            "readOnly": True,
        }
    ]


def test_grafana_replicas_need_a_database_and_no_shared_volume() -> None:
    found = problems_of({"grafana": {"replicas": 2, "persistence": {"enabled": True}}})
    with_database = problems_of({"grafana": {"replicas": 2, **GRAFANA_DATABASE}})
    by_override = problems_of(
        {
            "grafana": {
                "replicas": 2,
                "config": {"grafana.ini": {"database": {"type": "mysql", "host": "db:3306"}}},
            }
        }
    )

    assert "required with more than one replica" in found["spec.grafana.database"]
    assert "ReadWriteOnce" in found["spec.grafana.persistence.enabled"]
    assert with_database == {}
    assert by_override == {}


def test_angular_plugins_are_refused_and_the_examples_have_none() -> None:
    found = problems_of({"grafana": {"plugins": ["grafana-clock-panel", "grafana-piechart-panel"]}})

    assert set(found) == {"spec.grafana.plugins[1]"}
    assert "Angular" in found["spec.grafana.plugins[1]"]
    assert "grafana-piechart-panel" not in production()["grafana"].get("plugins", [])

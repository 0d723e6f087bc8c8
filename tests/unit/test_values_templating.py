"""Template expressions: a spec's strings reach values the charts evaluate with tpl as text, never
as code; a free-form override that carries one is reported by its path."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from shared.values.plan import plan_platform
from shared.values.templated import templated_charts
from shared.values.templating import (
    ESCAPED_OPEN,
    evaluated_at,
    evaluated_expressions,
    expressions_in,
    neutralise,
    neutralise_values,
    runs_code,
    template_expressions,
)
from shared.values.validation import validate
from tests.unit.test_values_fields import plan_for, platform
from tests.unit.test_values_validation import document

LOOKUP = 'x{{ (lookup "v1" "Secret" "victim" "db").data.password | b64dec }}'
# The paths the Helm tier renders with a template expression (tests/helm/test_template_injection).
RENDER_TESTED = {
    "prometheus": {
        "extraScrapeConfigs",
        "server.remoteWrite[*].url",
        "server.remoteRead[*].url",
        "extraManifests.**",
    },
    "grafana": {
        r"grafana\.ini.*",
        r"grafana\.ini.*.*",
        "datasources.**",
        "admin.existingSecret",
        "envFromSecret",
        "sidecar.*.label",
        "sidecar.*.labelValue",
        "ingress.annotations.*",
        "ingress.hosts.**",
    },
    "loki": {
        "loki.config",
        "loki.structuredConfig.**",
        "loki.storage.**",
        "loki.schemaConfig.**",
        "loki.limits_config.**",
        "loki.compactor.**",
        "loki.server.**",
        "loki.commonConfig.**",
    },
    "tempo": {"config"},
}
# A spec that sets every field gunj derives values from, with text wherever text is allowed.
EVERYTHING: dict[str, Any] = {
    "global": {"externalLabels": {"cluster": "c"}, "logLevel": "debug"},
    "prometheus": {
        "replicas": 2,
        "remoteWrite": [
            {
                "url": "https://m.example/push",
                "name": "n",
                "headers": {"X-Org": "o"},
                "basicAuth": {"username": "u", "passwordSecretRef": {"name": "s", "key": "k"}},
                "queueConfig": {"maxShards": 2},
                "writeRelabelConfigs": [{"regex": "r", "targetLabel": "t", "replacement": "$1"}],
            }
        ],
        "additionalScrapeConfigs": [{"job_name": "j"}],
    },
    "loki": {
        "retention": "744h",
        "limits": {"maxLineSize": "1MB"},
        "storage": {
            "type": "s3",
            "bucketNames": {"chunks": "b"},
            "s3": {"endpoint": "s3.example", "region": "eu-west-1"},
        },
    },
    "tempo": {
        "metricsGenerator": {"enabled": True},
        "storage": {"backend": "s3", "bucket": "b", "endpoint": "s3.example", "region": "eu"},
        "limits": {"ingestion": {"rateStrategy": "global"}},
    },
    "grafana": {
        "replicas": 2,
        "adminCredentials": {"existingSecret": "admin"},
        "envFromSecret": "env",
        "database": {
            "type": "postgres",
            "host": "db:5432",
            "name": "g",
            "user": "g",
            "passwordSecretRef": {"name": "db", "key": "p"},
        },
        "datasources": {
            "extra": [{"name": "n", "type": "postgres", "url": "db:5432", "jsonData": {"k": "v"}}]
        },
        "dashboards": {"sidecar": {"enabled": True, "label": "l", "labelValue": "v"}},
        "ingress": {"host": "g.example.com", "annotations": {"a": "b"}},
        "plugins": ["grafana-clock-panel"],
    },
}


def test_a_scrape_job_name_with_lookup_stays_text() -> None:
    values = plan_for(
        {"prometheus": {"additionalScrapeConfigs": [{"job_name": LOOKUP}]}}, "prometheus"
    ).values

    text = values["extraScrapeConfigs"]
    assert "{{ (lookup" not in text
    assert ESCAPED_OPEN in text
    # What the chart's tpl makes of it: the escape renders back to "{{", the rest is text.
    assert yaml.safe_load(text.replace(ESCAPED_OPEN, "{{")) == [{"job_name": LOOKUP}]


def test_datasource_text_stays_text() -> None:
    source = {"name": LOOKUP, "type": "loki", "url": "https://l.example", "jsonData": {LOOKUP: 1}}

    values = plan_for({"grafana": {"datasources": {"extra": [source]}}}, "grafana").values

    extra = values["datasources"]["datasources.yaml"]["datasources"][-1]
    assert extra["name"] == neutralise(LOOKUP)
    assert extra["jsonData"] == {neutralise(LOOKUP): 1}


def test_only_evaluated_values_are_rewritten() -> None:
    values = {
        "extraScrapeConfigs": "a{{b",
        "server": {"remoteWrite": [{"url": "u{{", "name": "n{{"}], "extraFlags": ["f{{"]},
    }

    assert neutralise_values("prometheus", values) == {
        "extraScrapeConfigs": f"a{ESCAPED_OPEN}b",
        "server": {
            "remoteWrite": [{"url": f"u{ESCAPED_OPEN}", "name": "n{{"}],
            "extraFlags": ["f{{"],
        },
    }


def test_a_value_evaluated_twice_is_neutralised_twice() -> None:
    assert neutralise_values("loki", {"loki": {"config": "{{x"}}) == {
        "loki": {"config": neutralise(neutralise("{{x"))}
    }


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"prometheus": {"remoteWrite": [{"url": "https://m.example/{{ .x }}"}]}}, "url"),
        ({"loki": {"storage": {"type": "s3", "bucketNames": {"chunks": "{{x}}"}}}}, "chunks"),
        ({"tempo": {"storage": {"backend": "s3", "bucket": "b", "region": "{{x}}"}}}, "region"),
        ({"grafana": {"dashboards": {"sidecar": {"label": "{{ .x }}"}}}}, "label"),
    ],
)
def test_fields_that_cannot_hold_text_refuse_template_delimiters(
    spec: dict[str, Any], path: str
) -> None:
    problems = validate(document(spec)).problems

    assert [p.path.rsplit(".", 1)[-1] for p in problems] == [path]


def _strings(node: Any, location: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(node, dict):
        return [loc for k, v in node.items() for loc in _strings(v, (*location, k))]
    if isinstance(node, list):
        return [loc for i, v in enumerate(node) for loc in _strings(v, (*location, i))]
    return [location] if isinstance(node, str) else []


def test_every_gunj_derived_string_in_an_evaluated_value_is_render_tested() -> None:
    reached = set()
    for plan in plan_platform(platform(EVERYTHING)):
        for location in _strings(plan.base_values):
            reached |= {(plan.component, e.path) for e in evaluated_at(plan.component, location)}

    assert {
        ("prometheus", "extraScrapeConfigs"),
        ("grafana", "datasources.**"),
        ("loki", "loki.storage.**"),
    } <= reached
    assert {(c, path) for c, path in reached if path not in RENDER_TESTED[c]} == set()


def test_table_names_the_chart_versions_it_was_read_from() -> None:
    charts = templated_charts()

    assert set(charts) == {"prometheus", "grafana", "loki", "tempo"}
    for component, chart in charts.items():
        assert chart.versions, component
        assert chart.paths, component
        assert RENDER_TESTED[component] <= {p.path for p in chart.paths}


def test_config_overrides_with_expressions_are_reported_by_path() -> None:
    result = validate(
        document(
            {
                "prometheus": {
                    "config": {"extraScrapeConfigs": LOOKUP, "server": {"x": ["{{ y }}"]}}
                },
                "grafana": {"config": {"grafana.ini": {"server": {"domain": "ok"}}}},
            }
        )
    )

    assert result.ok
    expressions = [w for w in result.warnings if "template expression" in w.message]
    assert [w.path for w in expressions] == [
        "spec.prometheus.config.extraScrapeConfigs",
        "spec.prometheus.config.server.x[0]",
    ]
    assert all("registry entry allows templates" in w.message for w in expressions)


def test_finder_sees_keys_and_list_items_and_nothing_else() -> None:
    platform_ = platform(
        {"tempo": {"config": {"tempo": {"{{ k }}": "v", "list": ["a", "b{{"], "n": 3}}}}
    )

    assert {p.path for p in template_expressions(platform_)} == {
        'spec.tempo.config.tempo["{{ k }}"]',
        "spec.tempo.config.tempo.list[1]",
    }
    assert expressions_in({"a": "plain", "b": {"c": "}} only"}}) == []


def test_complete_values_are_checked_where_the_chart_evaluates_them() -> None:
    values = {
        # grafana 12.x _pod.tpl and ingress.yaml evaluate these.
        "affinity": {"nodeAffinity": {"x": LOOKUP}},
        "ingress": {"annotations": {"a": LOOKUP}, "hosts": [LOOKUP]},
        "global": {"imagePullSecrets": [{"name": LOOKUP}]},
        # Not evaluated: text, as Helm leaves it.
        "tolerations": [{"key": LOOKUP}],
        # Evaluated, but gunj's own escape: renders as text.
        "envFromSecret": neutralise(LOOKUP),
    }

    assert evaluated_expressions("grafana", values, ("values",)) == [
        "values.affinity.nodeAffinity.x",
        "values.global.imagePullSecrets[0].name",
        "values.ingress.annotations.a",
        "values.ingress.hosts[0]",
    ]


def test_values_of_any_yaml_type_are_checked_as_helm_reads_them() -> None:
    loaded = yaml.safe_load(
        "loki:\n"
        "  storage:\n"
        "    bucketNames:\n"
        f"      chunks: !!binary {base64.b64encode(LOOKUP.encode()).decode()}\n"
        "  structuredConfig: !!set {'{{ x }}': null}\n"
    )
    key = yaml.safe_load(f"{{? !!binary {base64.b64encode(b'{{ k }}').decode()} : v}}")

    assert isinstance(loaded["loki"]["storage"]["bucketNames"]["chunks"], bytes)
    assert evaluated_expressions("loki", loaded) == [
        "loki.storage.bucketNames.chunks",
        "loki.structuredConfig",
    ]
    # A key of a subtree the chart renders and evaluates whole.
    assert evaluated_expressions("loki", {"loki": {"runtimeConfig": key}}) == [
        "loki.runtimeConfig[\"b'{{ k }}'\"]"
    ]
    config = platform({"tempo": {"config": loaded}})
    assert {p.path for p in template_expressions(config)} == {
        "spec.tempo.config.loki.storage.bucketNames.chunks",
        "spec.tempo.config.loki.structuredConfig",
    }


def test_an_escape_must_hold_as_often_as_the_value_is_evaluated() -> None:
    once = neutralise("{{ x }}")

    assert not runs_code(once, 1)
    assert runs_code(once, 2)
    assert not runs_code(neutralise(once), 2)
    # Read as Go's lexer reads it: a "{{" right before an escape opens an action.
    assert runs_code("{" + ESCAPED_OPEN, 1)
    assert runs_code(ESCAPED_OPEN + "{{ x }}", 1)
    assert evaluated_expressions("loki", {"loki": {"config": once}}) == ["loki.config"]

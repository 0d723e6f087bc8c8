"""The examples' values render with the real ``helm template`` of the test charts (which use the
upstream charts' values keys), satisfy the charts' values schemas, and wire the components to
each other's Services."""

from __future__ import annotations

import json
import tarfile
from typing import Any

import jsonschema
import pytest
import yaml

from shared.helm import ChartReference, HelmClient
from shared.localstack.chartrepo import PackagedChart
from shared.localstack.stack import Stack
from shared.values.merge import effective
from shared.values.plan import ComponentPlan, plan_platform
from shared.values.validation import load_platform
from shared.versions import VersionConstraint, parse_version
from tests.support import REPOSITORY_OF
from tests.unit.test_values_validation import EXAMPLES

PLANS = {
    example: {
        plan.component: plan
        for plan in plan_platform(load_platform((EXAMPLES / f"{example}.yaml").read_text()))
    }
    for example in ("minimal", "production")
}
CASES = [(example, component) for example, plans in PLANS.items() for component in plans]


def local_chart(stack: Stack, plan: ComponentPlan) -> PackagedChart:
    """The test chart version this plan would get: by app version, else the newest allowed."""
    candidates = [
        c
        for c in stack.charts
        if c.name == plan.chart and c.repository == REPOSITORY_OF[plan.chart]
    ]
    if plan.app_version:
        return next(
            c for c in candidates if parse_version(c.app_version) == parse_version(plan.app_version)
        )
    best = VersionConstraint.parse(plan.chart_version).best(c.version for c in candidates)
    return next(c for c in candidates if parse_version(c.version) == best)


def render(helm: HelmClient, stack: Stack, plan: ComponentPlan) -> list[dict[str, Any]]:
    chart = local_chart(stack, plan)
    manifest = helm.template(
        plan.release,
        ChartReference(
            name=chart.name,
            version=chart.version,
            repository=stack.repository_url(chart.repository),
        ),
        plan.namespace,
        values=plan.values,
    )
    return [doc for doc in yaml.safe_load_all(manifest) if doc]


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name)


@pytest.mark.parametrize(("example", "component"), CASES)
def test_example_renders_with_the_test_chart(
    example: str, component: str, helm: HelmClient, local_stack: Stack
) -> None:
    documents = render(helm, local_stack, PLANS[example][component])

    kinds = {doc["kind"] for doc in documents}
    assert {"Service", "ConfigMap"} <= kinds
    assert kinds & {"Deployment", "StatefulSet"}


@pytest.mark.parametrize(
    ("example", "component"), [c for c in CASES if c[1] in {"prometheus", "loki"}]
)
def test_values_satisfy_the_charts_values_schema(
    example: str, component: str, local_stack: Stack
) -> None:
    plan = PLANS[example][component]
    with tarfile.open(local_chart(local_stack, plan).path) as archive:
        member = archive.extractfile(f"{plan.chart}/values.schema.json")
        assert member is not None
        schema = json.load(member)

    jsonschema.validate(effective(plan.values), schema)


def test_production_wiring_in_rendered_manifests(helm: HelmClient, local_stack: Stack) -> None:
    plans = PLANS["production"]

    grafana = render(helm, local_stack, plans["grafana"])
    datasources = yaml.safe_load(
        find(grafana, "ConfigMap", "prod-grafana")["data"]["datasources.yaml"]
    )
    assert {d["name"]: d["url"] for d in datasources["datasources"] if "url" in d} == {
        "Prometheus": "http://prod-prometheus-server.observability.svc:80",
        "Loki": "http://prod-loki-gateway.observability.svc:80",
        "Tempo": "http://prod-tempo.observability.svc:3200",
    }
    for kind, name in (
        ("Service", "prod-prometheus-server"),
        ("Service", "prod-loki-gateway"),
        ("Service", "prod-tempo"),
    ):
        component = name.split("-")[1]
        assert find(render(helm, local_stack, plans[component]), kind, name)

    tempo = yaml.safe_load(
        find(render(helm, local_stack, plans["tempo"]), "ConfigMap", "prod-tempo")["data"][
            "tempo.yaml"
        ]
    )
    remote_write = tempo["metrics_generator"]["storage"]["remote_write"][0]["url"]
    assert remote_write == "http://prod-prometheus-server.observability.svc:80/api/v1/write"

    prometheus = render(helm, local_stack, plans["prometheus"])
    server = find(prometheus, "StatefulSet", "prod-prometheus-server")
    assert server["spec"]["replicas"] == 2
    assert {
        "name": "secret-remote-write-credentials",
        "secret": {"secretName": "remote-write-credentials"},
    } in server["spec"]["template"]["spec"]["volumes"]
    config = yaml.safe_load(
        find(prometheus, "ConfigMap", "prod-prometheus-server")["data"]["prometheus.yml"]
    )
    assert config["remote_write"][0]["basic_auth"] == {
        "username": "prod-eu-west-1",
        "password_file": "/etc/secrets/remote-write-credentials/password",
    }
    assert config["global"]["external_labels"]["cluster"] == "prod-eu-west-1"
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    # The chart's jobs, less those that read the cluster itself, then the spec's own.
    assert jobs[-1] == "blackbox"
    assert "prometheus" in jobs
    assert not {"kubernetes-api-servers", "kubernetes-nodes", "kubernetes-nodes-cadvisor"} & set(
        jobs
    )
    discovery = [
        c for job in config["scrape_configs"] for c in job.get("kubernetes_sd_configs", [])
    ]
    assert discovery
    assert all(c["namespaces"] == {"names": ["observability"]} for c in discovery)
    assert {
        (o["kind"], o["metadata"].get("namespace")) for o in prometheus if "Role" in o["kind"]
    } == {
        ("Role", "observability"),
        ("RoleBinding", "observability"),
    }

    loki = yaml.safe_load(
        find(render(helm, local_stack, plans["loki"]), "ConfigMap", "prod-loki")["data"][
            "config.yaml"
        ]
    )
    assert loki["common"]["storage"]["s3"]["bucketnames"] == "prod-loki-chunks"
    assert loki["limits_config"]["retention_period"] == "744h"

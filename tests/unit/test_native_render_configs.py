"""What the components read in native mode is the configuration Helm mode gives them: the same
typed, translated values written into each component's own file, with keys its documentation
knows (the tables Helm mode's configurations are checked against)."""

from __future__ import annotations

import configparser
import re
from typing import Any

import pytest
import yaml

from shared.native.render import RenderError
from shared.values.merge import merge
from shared.values.plan import ComponentPlan
from shared.values.yaml_text import to_yaml
from tests.helm import documented_config as documented
from tests.unit.test_native_render import (
    VARIANTS,
    config_data,
    container,
    example_plans,
    objects_of,
    plans,
    render_variant,
    variant_plan,
)

CASES = [
    *(
        (f"{example}-{plan.component}", plan)
        for example, ps in example_plans().items()
        for plan in ps
    ),
    *((variant, variant_plan(variant)) for variant in VARIANTS),
]


def cases(component: str) -> list[tuple[str, ComponentPlan]]:
    return [(name, plan) for name, plan in CASES if plan.component == component]


def ids(component: str) -> list[str]:
    return [name for name, _ in cases(component)]


def config(plan: ComponentPlan, file: str, **changes: Any) -> Any:
    return yaml.safe_load(config_data(objects_of(plan, **changes))[file])


def ini(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string("[__top__]\n" + text)
    return {section: dict(parser[section]) for section in parser.sections()}


def test_configuration_text_keeps_strings_that_yaml_1_1_reads_as_booleans() -> None:
    # Go's YAML 1.1 readers (Prometheus', Loki's, Tempo's) take a plain y or n for a boolean.
    class Yaml11Loader(yaml.SafeLoader):
        pass

    Yaml11Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN")
    )
    document = {"n": "y", "labels": ["Y", "N", "yes", "on", "x"]}

    assert yaml.load(to_yaml(document), Loader=Yaml11Loader) == document  # noqa: S506


# --- Prometheus ---------------------------------------------------------------------------------


def test_prometheus_yml_carries_the_values_global_and_remote_write_as_they_are() -> None:
    plan = variant_plan("prometheus-remote-write")
    server = plan.complete_values([])["server"]
    rendered = config(plan, "prometheus.yml")

    assert rendered["global"] == server["global"]
    assert rendered["global"]["external_labels"] == {"cluster": "c1", "replica": "${POD_NAME}"}
    assert rendered["remote_write"] == server["remoteWrite"]


def test_prometheus_scrapes_itself_what_kubernetes_discovers_and_the_extra_jobs() -> None:
    production = next(p for p in example_plans()["production"] if p.component == "prometheus")
    jobs = [job["job_name"] for job in config(production, "prometheus.yml")["scrape_configs"]]

    # Discovery in the platform's namespace only: no job that reads the cluster itself.
    assert jobs == ["prometheus", "kubernetes-service-endpoints", "kubernetes-pods", "blackbox"]


def test_cluster_wide_prometheus_scrapes_the_api_servers_and_nodes_too() -> None:
    plan = plans({"prometheus": {"discovery": {"clusterWide": True}}})["prometheus"]
    jobs = config(plan, "prometheus.yml")["scrape_configs"]

    assert [job["job_name"] for job in jobs] == [
        "prometheus",
        "kubernetes-apiservers",
        "kubernetes-nodes",
        "kubernetes-nodes-cadvisor",
        "kubernetes-service-endpoints",
        "kubernetes-pods",
    ]
    assert all("namespaces" not in c for j in jobs[2:] for c in j["kubernetes_sd_configs"])


def test_prometheus_discovers_in_its_namespace_and_those_the_spec_names() -> None:
    plan = plans({"prometheus": {"discovery": {"namespaces": ["apps", "web"]}}})["prometheus"]
    jobs = config(plan, "prometheus.yml")["scrape_configs"]
    objects = objects_of(plan)

    discovered = [c for job in jobs for c in job.get("kubernetes_sd_configs", [])]
    assert [c["namespaces"] for c in discovered] == [{"names": ["mon", "apps", "web"]}] * 2
    roles = [(o["kind"], o["metadata"]["namespace"]) for o in objects if "Role" in o["kind"]]
    assert sorted(roles) == [
        (kind, namespace)
        for kind in ("Role", "RoleBinding")
        for namespace in ("apps", "mon", "web")
    ]
    [binding] = [
        o for o in objects if o["kind"] == "RoleBinding" and o["metadata"]["namespace"] == "web"
    ]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "obs-prometheus-native", "namespace": "mon"}
    ]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "obs-prometheus-native",
    }


def test_an_extra_job_named_like_a_default_one_takes_its_place() -> None:
    # The spec's additionalScrapeConfigs refuse the chart's job names; free-form config does not.
    extra = [{"job_name": "kubernetes-pods", "static_configs": [{"targets": ["a:1"]}]}]
    plan = plans({"prometheus": {"config": {"extraScrapeConfigs": yaml.safe_dump(extra)}}})[
        "prometheus"
    ]
    jobs = config(plan, "prometheus.yml")["scrape_configs"]

    assert [job["job_name"] for job in jobs].count("kubernetes-pods") == 1
    assert jobs[-1] == {"job_name": "kubernetes-pods", "static_configs": [{"targets": ["a:1"]}]}


def test_prometheus_flags_follow_the_values() -> None:
    plan = plans({"prometheus": {"retention": "30d", "retentionSize": "40GB"}, "tempo": {}})[
        "prometheus"
    ]
    args = container(objects_of(plan))["args"]

    assert args == [
        "--config.file=/etc/config/prometheus.yml",
        "--storage.tsdb.path=/data",
        "--storage.tsdb.retention.time=30d",
        "--storage.tsdb.retention.size=40GB",
        "--web.enable-lifecycle",
        "--log.level=info",
        "--web.enable-remote-write-receiver",
    ]


def test_prometheus_discovery_may_read_what_it_scrapes_cluster_wide() -> None:
    objects = render_variant("prometheus-cluster-wide")
    role = next(o for o in objects if o["kind"] == "ClusterRole")
    binding = next(o for o in objects if o["kind"] == "ClusterRoleBinding")
    readable = {
        (group, resource)
        for rule in role["rules"]
        for group in rule.get("apiGroups", [])
        for resource in rule["resources"]
        if rule["verbs"] == ["get", "list", "watch"]
    }

    assert readable == {
        ("", "nodes"),
        ("", "nodes/metrics"),
        ("", "services"),
        ("", "endpoints"),
        ("", "pods"),
        ("discovery.k8s.io", "endpointslices"),
        ("networking.k8s.io", "ingresses"),
    }
    assert {"nonResourceURLs": ["/metrics"], "verbs": ["get"]} in role["rules"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "obs-prometheus-native", "namespace": "mon"}
    ]


def test_without_rbac_prometheus_gets_no_cluster_role() -> None:
    plan = variant_plan("prometheus-default")
    values = merge(plan.complete_values([]), {"rbac": {"create": False}})
    kinds = {o["kind"] for o in objects_of(plan, values=values)}

    assert "ClusterRole" not in kinds
    assert "ClusterRoleBinding" not in kinds


# --- Loki ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "plan"), cases("loki"), ids=ids("loki"))
def test_loki_configuration_is_documented(case: str, plan: ComponentPlan) -> None:
    assert documented.undocumented(config(plan, "config.yaml"), documented.LOKI) == []


def test_loki_takes_the_translated_limits_retention_schema_and_object_store() -> None:
    rendered = config(variant_plan("loki-s3"), "config.yaml")

    assert rendered["limits_config"]["ingestion_rate_mb"] == 8
    assert rendered["limits_config"]["retention_period"] == "744h"
    assert rendered["compactor"] == {"retention_enabled": True, "delete_request_store": "s3"}
    assert rendered["common"]["replication_factor"] == 3
    assert rendered["common"]["storage"] == {
        "s3": {
            "bucketnames": "c",
            "endpoint": "s3.example.com",
            "region": "eu-west-1",
            "s3forcepathstyle": False,
            "insecure": False,
        }
    }
    assert rendered["ruler"]["storage"]["s3"]["bucketnames"] == "r"
    assert rendered["schema_config"]["configs"][0]["object_store"] == "s3"
    assert rendered["memberlist"]["join_members"] == ["dns+obs-loki-native.mon.svc:7946"]


def test_loki_on_the_filesystem_runs_without_auth_as_one_binary() -> None:
    objects = render_variant("loki-default")
    rendered = yaml.safe_load(config_data(objects)["config.yaml"])

    assert rendered["auth_enabled"] is False
    assert rendered["common"]["storage"] == {
        "filesystem": {
            "chunks_directory": "/var/loki/chunks",
            "rules_directory": "/var/loki/rules",
        }
    }
    assert container(objects)["args"] == [
        "-config.file=/etc/loki/config/config.yaml",
        "-target=all",
    ]


def test_loki_structured_config_is_merged_over_the_configuration() -> None:
    plan = plans(
        {
            "loki": {
                "config": {
                    "loki": {
                        "structuredConfig": {
                            "limits_config": {"max_query_series": 1000},
                            "server": {"log_level": "debug"},
                        }
                    }
                }
            }
        }
    )["loki"]
    rendered = config(plan, "config.yaml")

    assert rendered["limits_config"]["max_query_series"] == 1000
    assert rendered["limits_config"]["reject_old_samples"] is True
    assert rendered["server"]["log_level"] == "debug"


def test_without_the_gateway_loki_has_no_gateway_service() -> None:
    plan = plans({"loki": {"config": {"gateway": {"enabled": False}}}})["loki"]
    services = [o["metadata"]["name"] for o in objects_of(plan) if o["kind"] == "Service"]

    assert services == ["obs-loki", "obs-loki-native"]


# --- Tempo --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "plan"), cases("tempo"), ids=ids("tempo"))
def test_tempo_configuration_is_documented(case: str, plan: ComponentPlan) -> None:
    rendered = config(plan, "tempo.yaml")

    assert documented.undocumented(rendered, documented.TEMPO) == []
    generator = rendered.get("overrides", {}).get("defaults", {}).get("metrics_generator", {})
    assert set(generator.get("processors", [])) <= documented.TEMPO_PROCESSORS
    if "metrics_generator" in rendered:
        # A generator without processors derives nothing.
        assert generator["processors"]


def test_tempo_writes_its_generated_metrics_to_the_platforms_prometheus() -> None:
    rendered = config(variant_plan("tempo-persistent"), "tempo.yaml")

    assert rendered["metrics_generator"]["storage"]["remote_write"] == [
        {"url": "http://obs-prometheus-server.mon.svc:80/api/v1/write", "send_exemplars": True}
    ]
    assert rendered["overrides"]["defaults"]["metrics_generator"]["processors"] == [
        "service-graphs",
        "span-metrics",
    ]
    assert rendered["distributor"]["receivers"]["zipkin"] == {"endpoint": "0.0.0.0:9411"}
    assert rendered["storage"]["trace"]["backend"] == "s3"
    assert rendered["storage"]["trace"]["s3"] == {"bucket": "traces", "insecure": False}


def test_tempo_receives_otlp_and_jaeger_on_every_interface_by_default() -> None:
    receivers = config(variant_plan("tempo-default"), "tempo.yaml")["distributor"]["receivers"]

    assert receivers["otlp"]["protocols"] == {
        "grpc": {"endpoint": "0.0.0.0:4317"},
        "http": {"endpoint": "0.0.0.0:4318"},
    }
    assert receivers["jaeger"]["protocols"]["thrift_http"] == {"endpoint": "0.0.0.0:14268"}
    assert "zipkin" not in receivers


def test_tempo_without_a_remote_write_url_for_its_generator_is_refused() -> None:
    plan = variant_plan("tempo-persistent")
    values = merge(
        plan.complete_values([]), {"tempo": {"metricsGenerator": {"remoteWriteUrl": None}}}
    )

    with pytest.raises(RenderError, match=r"tempo\.metricsGenerator\.remoteWriteUrl"):
        objects_of(plan, values=values)


# --- Grafana ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "plan"), cases("grafana"), ids=ids("grafana"))
def test_grafana_configuration_is_documented(case: str, plan: ComponentPlan) -> None:
    data = config_data(objects_of(plan))
    sections = ini(data["grafana.ini"])
    top = sections.pop("__top__")
    datasources = yaml.safe_load(data["datasources.yaml"]) if "datasources.yaml" in data else {}

    assert [key for key in top if key not in documented.GRAFANA_INI] == []
    assert documented.undocumented(sections, documented.GRAFANA_INI) == []
    assert sections.get("database", {}).get("type", "sqlite3") in documented.GRAFANA_DATABASE_TYPES
    assert documented.undocumented(datasources, documented.GRAFANA_DATASOURCES) == []


def test_grafana_datasources_are_the_values_datasources() -> None:
    plan = next(p for p in example_plans()["production"] if p.component == "grafana")
    values = plan.complete_values([])

    assert config(plan, "datasources.yaml") == values["datasources"]["datasources.yaml"]


def test_grafana_ini_is_written_as_the_chart_writes_it() -> None:
    plan = plans(
        {
            "grafana": {
                "config": {
                    "grafana.ini": {
                        "instance_name": "obs",
                        "feature_toggles": {"enable": ["a", "b"]},
                        "auth.anonymous": {"enabled": True, "org_role": "Viewer"},
                    }
                }
            }
        }
    )["grafana"]
    text = config_data(objects_of(plan))["grafana.ini"]
    lines = text.splitlines()

    assert lines[0] == "instance_name = obs"
    assert "[auth.anonymous]\nenabled = true\norg_role = Viewer\n" in text
    assert 'enable = ["a","b"]' in lines
    sections = [line for line in lines if line.startswith("[")]
    assert sections == sorted(sections)


def test_grafana_provisions_its_datasources_and_reads_its_ini() -> None:
    objects = render_variant("grafana-persistent")
    mounts = {m["mountPath"]: m for m in container(objects)["volumeMounts"]}

    assert mounts["/etc/grafana/grafana.ini"]["subPath"] == "grafana.ini"
    assert mounts["/etc/grafana/provisioning/datasources"]["readOnly"] is True
    env = {e["name"]: e.get("value") for e in container(objects)["env"]}
    assert env["GF_PATHS_DATA"] == "/var/lib/grafana"
    assert env["GF_PLUGINS_PREINSTALL_SYNC"] == "grafana-clock-panel"


def test_grafana_ingress_routes_its_host_to_the_service() -> None:
    ingress = next(o for o in render_variant("grafana-persistent") if o["kind"] == "Ingress")

    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "g-tls", "hosts": ["g.example.com"]}]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "g.example.com"
    assert rule["http"]["paths"][0]["backend"] == {
        "service": {"name": "obs-grafana", "port": {"number": 80}}
    }

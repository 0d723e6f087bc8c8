"""What the software itself would read: every valid example rendered through the test charts,
the Prometheus configuration checked by the real `promtool check config` of the Prometheus release
the chart deploys, and the Loki, Tempo and Grafana configurations checked against their
documented structure."""

from __future__ import annotations

import configparser
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.helm import HelmClient
from shared.localstack import pins
from shared.localstack.stack import Stack
from shared.values.plan import ComponentPlan, plan_platform
from shared.values.validation import load_platform, validate
from tests.helm import documented_config as documented
from tests.helm.test_values_render import find, render
from tests.unit.test_values_fields import platform
from tests.unit.test_values_validation import EXAMPLES


def _valid_examples() -> dict[str, list[ComponentPlan]]:
    found = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        text = path.read_text()
        documents = [d for d in yaml.safe_load_all(text) if d]
        if len(documents) == 1 and validate(documents[0]).ok:
            found[path.stem] = plan_platform(load_platform(text))
    return found


EXAMPLE_PLANS = _valid_examples()


def cases(component: str) -> list[tuple[str, ComponentPlan]]:
    return [
        (example, plan)
        for example, plans in EXAMPLE_PLANS.items()
        for plan in plans
        if plan.component == component
    ]


def ids(component: str) -> list[str]:
    return [example for example, _ in cases(component)]


def config_map(helm: HelmClient, stack: Stack, plan: ComponentPlan, name: str) -> dict[str, str]:
    data: dict[str, str] = find(render(helm, stack, plan), "ConfigMap", name)["data"]
    return data


def test_both_examples_are_checked() -> None:
    assert {"minimal", "production"} <= set(EXAMPLE_PLANS)


def test_promtool_is_the_release_chart_29_27_0_deploys(promtool: Path) -> None:
    result = subprocess.run(
        [str(promtool), "--version"], capture_output=True, text=True, check=True
    )

    assert f"promtool, version {pins.PROMETHEUS_VERSION.removeprefix('v')} " in result.stdout


@pytest.mark.parametrize(("example", "plan"), cases("prometheus"), ids=ids("prometheus"))
def test_prometheus_configuration_passes_promtool(
    example: str,
    plan: ComponentPlan,
    promtool: Path,
    helm: HelmClient,
    local_stack: Stack,
    tmp_path: Path,
) -> None:
    promtool_check(promtool, helm, local_stack, plan, tmp_path)


# What the chart's jobs discover with, as the spec's discovery leaves them.
DISCOVERY_CASES: dict[str, tuple[dict[str, Any], list[str] | None]] = {
    "namespaces": ({"namespaces": ["apps", "web"]}, ["mon", "apps", "web"]),
    "cluster-wide": ({"clusterWide": True}, None),
}


@pytest.mark.parametrize("case", sorted(DISCOVERY_CASES))
def test_prometheus_discovery_of_the_rendered_configuration(
    case: str, promtool: Path, helm: HelmClient, local_stack: Stack, tmp_path: Path
) -> None:
    discovery, namespaces = DISCOVERY_CASES[case]
    [plan] = plan_platform(platform({"prometheus": {"discovery": discovery}}))

    config = yaml.safe_load(promtool_check(promtool, helm, local_stack, plan, tmp_path))

    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    sd_configs = [c for job in jobs.values() for c in job.get("kubernetes_sd_configs", [])]
    cluster_jobs = {"kubernetes-api-servers", "kubernetes-nodes", "kubernetes-nodes-cadvisor"}
    alerting = config["alerting"]["alertmanagers"][0]["kubernetes_sd_configs"]
    if namespaces is None:
        assert cluster_jobs <= set(jobs)
        assert all("namespaces" not in c for c in sd_configs + alerting)
    else:
        assert not cluster_jobs & set(jobs)
        assert len(sd_configs) == 6
        assert all(c["namespaces"] == {"names": namespaces} for c in sd_configs)
        # Alertmanager is the platform's own.
        assert alerting == [{"role": "pod", "namespaces": {"names": ["mon"]}}]


def promtool_check(
    promtool: Path, helm: HelmClient, stack: Stack, plan: ComponentPlan, tmp_path: Path
) -> str:
    """The rendered ``prometheus.yml``, once ``promtool check config`` has accepted it."""
    data = config_map(helm, stack, plan, f"{plan.release}-server")
    config = tmp_path / "prometheus.yml"
    config.write_text(data["prometheus.yml"])

    # The server pod's environment: Prometheus expands ${POD_NAME} in external labels.
    environment = {**os.environ, "POD_NAME": f"{plan.release}-server-0"}
    result = subprocess.run(
        [str(promtool), "check", "config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    return data["prometheus.yml"]


def test_promtool_refuses_what_prometheus_refuses(promtool: Path, tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "remote_write": [
                    {"url": "https://m.example/push", "queue_config": {"maxSamplesPerSend": 1}}
                ]
            }
        )
    )

    result = subprocess.run(
        [str(promtool), "check", "config", str(config)], capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "field maxSamplesPerSend not found" in result.stdout + result.stderr


@pytest.mark.parametrize(("example", "plan"), cases("loki"), ids=ids("loki"))
def test_loki_configuration_is_documented(
    example: str, plan: ComponentPlan, helm: HelmClient, local_stack: Stack
) -> None:
    config = yaml.safe_load(config_map(helm, local_stack, plan, plan.release)["config.yaml"])

    assert documented.undocumented(config, documented.LOKI) == []


@pytest.mark.parametrize(("example", "plan"), cases("tempo"), ids=ids("tempo"))
def test_tempo_configuration_is_documented(
    example: str, plan: ComponentPlan, helm: HelmClient, local_stack: Stack
) -> None:
    config = yaml.safe_load(config_map(helm, local_stack, plan, plan.release)["tempo.yaml"])

    assert documented.undocumented(config, documented.TEMPO) == []
    generator = config.get("overrides", {}).get("defaults", {}).get("metrics_generator", {})
    assert set(generator.get("processors", [])) <= documented.TEMPO_PROCESSORS
    if "metrics_generator" in config:
        # A generator without processors derives nothing.
        assert generator["processors"]


def _ini(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys keep their case
    parser.read_string("[__top__]\n" + text)
    return {section: dict(parser[section]) for section in parser.sections()}


@pytest.mark.parametrize(("example", "plan"), cases("grafana"), ids=ids("grafana"))
def test_grafana_configuration_is_documented(
    example: str, plan: ComponentPlan, helm: HelmClient, local_stack: Stack
) -> None:
    data = config_map(helm, local_stack, plan, plan.release)
    ini = _ini(data["grafana.ini"])
    top = ini.pop("__top__")
    datasources: dict[str, Any] = yaml.safe_load(data["datasources.yaml"])

    assert [key for key in top if key not in documented.GRAFANA_INI] == []
    assert documented.undocumented(ini, documented.GRAFANA_INI) == []
    assert ini.get("database", {}).get("type", "sqlite3") in documented.GRAFANA_DATABASE_TYPES
    assert documented.undocumented(datasources, documented.GRAFANA_DATASOURCES) == []
    for source in datasources["datasources"]:
        if source["type"] in {"postgres", "mysql", "mssql"}:
            assert "://" not in source.get("url", "")
        elif "url" in source:
            assert source["url"].startswith(("http://", "https://"))


def test_documented_structure_catches_a_misplaced_key() -> None:
    assert documented.undocumented(
        {"limits_config": {"ingestionRateMb": 4}, "common": {"storage": {"s3": {"bucket": "b"}}}},
        documented.LOKI,
    ) == ["limits_config.ingestionRateMb", "common.storage.s3.bucket"]

"""Native mode's ``prometheus.yml`` for every valid example and every rendered variant, checked by
the real ``promtool check config`` of the Prometheus release native mode runs. Prometheus reads
its configuration strictly: a field it does not know stops the server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shared.localstack import pins
from shared.native.render import APP_VERSIONS
from shared.native.render.prometheus_scrape import SERVICE_ACCOUNT_DIR
from shared.values.plan import ComponentPlan
from tests.unit.test_native_render import (
    VARIANTS,
    config_data,
    example_plans,
    objects_of,
    variant_plan,
)

CASES = [
    *((example, plan) for example, ps in example_plans().items() for plan in ps),
    *((variant, variant_plan(variant)) for variant in VARIANTS),
]
PROMETHEUS_CASES = [(name, plan) for name, plan in CASES if plan.component == "prometheus"]


def check(promtool: Path, text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``promtool check config`` as in the server pod: its ServiceAccount token and CA at their
    place (promtool checks that the token file exists), its pod name in the environment
    (Prometheus expands ${POD_NAME} in external labels)."""
    account = folder / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("token")
    (account / "ca.crt").write_text("")
    config = folder / "prometheus.yml"
    config.write_text(text.replace(SERVICE_ACCOUNT_DIR, str(account)))
    return subprocess.run(
        [str(promtool), "check", "config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "POD_NAME": "obs-prometheus-native-0"},
    )


def test_promtool_is_the_release_native_mode_runs(promtool: Path) -> None:
    result = subprocess.run(
        [str(promtool), "--version"], capture_output=True, text=True, check=True
    )

    assert APP_VERSIONS["prometheus"] == pins.PROMETHEUS_VERSION
    assert f"promtool, version {APP_VERSIONS['prometheus'].removeprefix('v')} " in result.stdout


@pytest.mark.parametrize(
    ("case", "plan"), PROMETHEUS_CASES, ids=[name for name, _ in PROMETHEUS_CASES]
)
def test_native_prometheus_configuration_passes_promtool(
    case: str, plan: ComponentPlan, promtool: Path, tmp_path: Path
) -> None:
    text = config_data(objects_of(plan))["prometheus.yml"]

    result = check(promtool, text, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_refuses_a_scrape_config_prometheus_would_refuse(
    promtool: Path, tmp_path: Path
) -> None:
    plan = variant_plan("prometheus-default")
    text = config_data(objects_of(plan))["prometheus.yml"]
    broken = text.replace(
        "job_name: kubernetes-pods", "job_name: kubernetes-pods\n  scrapeInterval: 1m"
    )

    result = check(promtool, broken, tmp_path)

    assert result.returncode != 0
    assert "field scrapeInterval not found" in result.stdout + result.stderr

"""`gunj validate` and `gunj plan --offline` warn, without contacting any repository, about charts
from a repository they moved away from and chart versions outside what gunj's values are written
for; the spec is still valid (exit 0)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.values.validation import validate
from tests.unit.test_values_validation import EXAMPLES, document

OLD_GRAFANA = document(
    {
        "prometheus": {},
        "grafana": {
            "chartVersion": "10.5.15",
            "chart": {"repository": "https://grafana.github.io/helm-charts"},
            "adminCredentials": {"existingSecret": "admin"},
        },
    }
)


def gunj(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def old_grafana(tmp_path: Path) -> Path:
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(OLD_GRAFANA))
    return path


def test_validate_warns_about_moved_repository_and_unsupported_version(old_grafana: Path) -> None:
    result = gunj("validate", str(old_grafana))

    assert result.returncode == 0, result.stdout
    assert f"{old_grafana}: valid" in result.stdout
    lines = [line for line in result.stdout.splitlines() if "warning:" in line]
    assert any(
        "spec.grafana.chart.repository: moved: chart grafana moved from "
        "https://grafana.github.io/helm-charts to https://grafana-community.github.io/helm-charts"
        in line
        for line in lines
    ), lines
    assert any("spec.grafana.chart.repository: deprecated:" in line for line in lines), lines
    assert any("spec.grafana.chartVersion: outside >=12.0.0 <13.0.0" in line for line in lines), (
        lines
    )


def test_plan_offline_shows_the_warnings_with_their_component(old_grafana: Path) -> None:
    result = gunj("plan", "--offline", str(old_grafana))

    assert result.returncode == 0, result.stderr
    grafana = result.stdout[result.stdout.index("grafana: release") :]
    prometheus = result.stdout[: result.stdout.index("grafana: release")]
    assert "warning: spec.grafana.chart.repository: moved: chart grafana moved" in grafana
    assert "warning: spec.grafana.chartVersion: outside >=12.0.0 <13.0.0" in grafana
    assert "warning:" not in prometheus


def test_supported_version_warning_comes_from_validation() -> None:
    result = validate(OLD_GRAFANA)

    assert result.ok
    assert [w.path for w in result.warnings] == ["spec.grafana.chartVersion"]


@pytest.mark.parametrize("example", ["minimal", "production"])
def test_the_examples_carry_no_offline_warnings(example: str) -> None:
    result = gunj("validate", str(EXAMPLES / f"{example}.yaml"))

    assert result.returncode == 0
    assert "warning:" not in result.stdout

"""`gunj validate --strict` fails on warnings, a template that apply refuses among them; validate
runs apply's checks of the complete values offline and says what it leaves to the cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.values.release_checks import offline_release_checks
from shared.values.validation import load_platform
from tests.unit.test_values_validation import EXAMPLES, _gunj, document

TEMPLATE = '{{ (lookup "v1" "Secret" "kube-system" "token").data }}'


def spec_file(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document(spec)))
    return path


def grafana(**fields: Any) -> dict[str, Any]:
    return {"grafana": {"adminCredentials": {"existingSecret": "admin"}, **fields}}


@pytest.fixture
def templated(tmp_path: Path) -> Path:
    return spec_file(tmp_path, grafana(config={"grafana.ini": {"server": {"root_url": TEMPLATE}}}))


def test_a_template_apply_refuses_is_a_warning_without_strict(templated: Path) -> None:
    result = _gunj("validate", str(templated))

    assert result.returncode == 0
    assert f"{templated}: valid" in result.stdout
    assert f"{templated}: 1 warning (accepted)" in result.stdout
    assert (
        '  - warning: spec.grafana.config["grafana.ini"].server.root_url: holds a Helm template '
        "expression ('{{') where the chart evaluates values as templates: it would run with "
        "gunj's credentials (lookup reads any Secret of the cluster), so apply refuses it unless "
        "the target cluster's registry entry allows templates" in result.stdout
    )


def test_strict_fails_on_the_same_warning(templated: Path) -> None:
    result = _gunj("validate", "--strict", str(templated))

    assert result.returncode == 1
    assert f"{templated}: 1 warning (refused: --strict)" in result.stdout
    assert f"{templated}: valid" not in result.stdout


def test_a_template_where_the_chart_evaluates_nothing_is_still_refused_by_apply(
    tmp_path: Path,
) -> None:
    path = spec_file(tmp_path, grafana(config={"podAnnotations": {"note": "{{ x }}"}}))

    result = _gunj("validate", "--strict", str(path))

    assert result.returncode == 1
    assert (
        "warning: spec.grafana.config.podAnnotations.note: holds a Helm template expression "
        "('{{'); the chart does not evaluate this value, but apply refuses any in config"
    ) in result.stdout


def test_strict_passes_a_spec_without_warnings() -> None:
    result = _gunj("validate", "--strict", str(EXAMPLES / "minimal.yaml"))

    assert result.returncode == 0, result.stdout
    assert "valid" in result.stdout


def test_strict_fails_on_any_warning(tmp_path: Path) -> None:
    path = spec_file(tmp_path, {"prometheus": {"storage": {"size": 50}}})

    assert _gunj("validate", str(path)).returncode == 0
    assert _gunj("validate", "--strict", str(path)).returncode == 1


def test_values_from_is_named_as_checked_only_with_the_cluster(tmp_path: Path) -> None:
    path = spec_file(tmp_path, grafana(valuesFrom=[{"kind": "Secret", "name": "grafana-values"}]))

    result = _gunj("validate", "--strict", str(path))

    # A note is no warning: --strict still passes.
    assert result.returncode == 0, result.stdout
    assert (
        f"{path}: note: spec.grafana.valuesFrom: read from the cluster at apply: the complete "
        "values are checked with them there (templates, objects outside the namespace, sizes), "
        "and by gunj plan --cluster NAME; checked here without them"
    ) in result.stdout


def test_the_offline_check_of_the_complete_values_repeats_nothing_config_holds() -> None:
    platform = load_platform(
        yaml.safe_dump(
            document(grafana(config={"grafana.ini": {"server": {"root_url": TEMPLATE}}}))
        )
    )

    checks = offline_release_checks(platform)

    # Reported once, at its spec path, by validation; gunj's own layers hold no template.
    assert checks.problems == checks.warnings == checks.notes == []

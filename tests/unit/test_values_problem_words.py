"""The problems `gunj validate` prints for specs people write: in YAML's words (no Python class
names), "quote it" where YAML read a number or true/false that was meant as text, and chart values
pointed at `config`."""

from __future__ import annotations

import pytest

from shared.values.validation import validate
from tests.unit.test_values_validation import _gunj, document

HEADER = (
    "apiVersion: observability.io/v1beta1\nkind: ObservabilityPlatform\n"
    "metadata: {name: obs, namespace: mon}\nspec:\n"
)


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> str:
    spec = tmp_path_factory.mktemp("words") / "words.yaml"
    spec.write_text(
        HEADER + "  prometheus:\n"
        "    chartVersion: 29.27\n"
        "    retention: 15\n"
        "    server: {retention: 30d}\n"
        "    nodeSelector: {zone: 1}\n"
        "  grafana:\n"
        "    adminCredentials: {existingSecret: admin}\n"
        "    values: {}\n"
        "    persistence: 5\n"
        "    plugins: {piechart: true}\n"
        "  loki:\n"
        "    storage: {type: s3, bucketNames: {chunks: c}, s3: {region: no}}\n"
    )
    result = _gunj("validate", str(spec))
    assert result.returncode == 1
    return result.stdout


@pytest.mark.parametrize(
    "line",
    [
        "spec.prometheus.chartVersion: got a number: quote it (unquoted, YAML reads 29.10 as the "
        "number 29.1)",
        "spec.loki.storage.s3.region: got true/false: quote it (YAML reads yes, no, on, off "
        "unquoted as true/false)",
        "spec.prometheus.nodeSelector.zone: got a number: quote it",
        # Quoting would not make it valid: what is wrong with it as text.
        "spec.prometheus.retention: got a number: not a duration; use numbers with units",
        "spec.grafana.persistence: must be a mapping with fields enabled, size, storageClassName "
        "(got a number)",
        "spec.grafana.plugins: must be a list (got a mapping)",
        "spec.prometheus.server: unknown field; chart values go under spec.prometheus.config "
        "(as config.server)",
        "spec.grafana.values: unknown field; chart values go under spec.grafana.config (or "
        "spec.grafana.valuesFrom, to read them from a Secret or ConfigMap)",
    ],
)
def test_validate_says_what_to_write(words: str, line: str) -> None:
    assert f"  - {line}" in words


def test_no_python_names_in_any_problem(words: str) -> None:
    for python in ("instance of", "dictionary", "valid string", "Input should", "PrometheusSpec"):
        assert python not in words


def test_an_unknown_field_that_is_no_chart_value_still_gets_the_closest_name() -> None:
    found = {
        p.path: p.message
        for p in validate(document({"prometheus": {"retension": "15d", "serverr": {}}})).problems
    }

    assert found["spec.prometheus.retension"] == "unknown field; did you mean 'retention'?"
    assert "config" not in found["spec.prometheus.retension"]
    # Below a component's top level, a name is no chart value: the model's fields are listed.
    deep = validate(document({"prometheus": {"storage": {"server": 1}}})).problems
    assert [p.message for p in deep] == [
        "unknown field; valid fields here: enabled, size, storageClassName"
    ]


def test_a_wrong_type_never_shows_the_value() -> None:
    secret = "hunter2-not-shown"
    problems = validate(document({"grafana": {"persistence": secret, "plugins": secret}})).problems

    assert {p.path for p in problems} == {"spec.grafana.persistence", "spec.grafana.plugins"}
    assert all(secret not in str(p) for p in problems)
    assert all("(got text)" in p.message for p in problems)


def test_the_volume_is_pointed_at_by_the_spec_name_for_it() -> None:
    found = {
        p.path: p.message
        for p in validate(
            document({"prometheus": {"persistence": {"size": "5Gi"}}, "grafana": {"storage": {}}})
        ).problems
    }

    assert found == {
        "spec.prometheus.persistence": "unknown field; did you mean 'storage'?",
        "spec.grafana.storage": "unknown field; did you mean 'persistence'?",
    }

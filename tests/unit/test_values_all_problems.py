"""Every problem of a spec at once: a part that does not parse does not hide the rules that span
fields elsewhere (or in the same component), and what stands in for it raises nothing of its own."""

from __future__ import annotations

from shared.values.validation import validate
from tests.unit.test_values_validation import EXAMPLES, _gunj, document


def paths(doc: dict[str, object]) -> dict[str, str]:
    return {p.path: p.message for p in validate(doc).problems}


def test_a_type_error_and_a_rule_of_the_same_component_are_reported_together() -> None:
    found = paths(
        document(
            {
                "tempo": {"timeout": "soon", "receivers": {"jaeger": False}},
                "prometheus": {
                    "replicas": "three",
                    "remoteWrite": [
                        {"url": "https://a.example.com", "name": "a"},
                        {"url": "https://b.example.com", "name": "a"},
                    ],
                },
            }
        )
    )

    assert set(found) == {
        "spec.tempo.timeout",
        "spec.tempo.receivers.jaeger",
        "spec.prometheus.replicas",
        "spec.prometheus.remoteWrite[1].name",
    }
    assert "whole number (got text)" in found["spec.prometheus.replicas"]


def test_what_stands_in_for_a_broken_part_raises_nothing_of_its_own() -> None:
    # bucketNames does not parse: "required with storage.type s3" would be about its stand-in.
    found = paths(document({"loki": {"storage": {"type": "s3", "bucketNames": {"chunks": 5}}}}))

    assert set(found) == {"spec.loki.storage.bucketNames.chunks"}


def test_a_broken_top_level_part_leaves_the_rules_of_the_spec() -> None:
    found = paths(
        {
            "apiVersion": "observability.io/v1beta1",
            "metadata": {"name": "Bad_Name", "namespace": "mon"},
            "spec": {"loki": {"deploymentMode": "Distributed"}},
        }
    )

    assert set(found) == {"kind", "metadata.name", "spec.loki.deploymentMode"}


def test_warnings_of_the_parts_that_parse_are_reported_with_the_problems() -> None:
    result = validate(
        document(
            {
                "prometheus": {"replicas": -1},
                "grafana": {"config": {"grafana.ini": {"server": {"domain": "{{ .Values.x }}"}}}},
            }
        )
    )

    assert [p.path for p in result.problems] == ["spec.prometheus.replicas"]
    assert {w.path for w in result.warnings} == {
        "spec.grafana.adminCredentials",
        'spec.grafana.config["grafana.ini"].server.domain',
    }


def test_the_invalid_example_shows_its_problems_at_once() -> None:
    result = _gunj("validate", str(EXAMPLES / "invalid.yaml"))

    assert result.returncode == 1
    assert "examples/invalid.yaml: 17 problems" in result.stdout
    for line in (
        "spec.tempo.timeout: not a positive timeout",
        "spec.tempo.receivers.jaeger: the Tempo chart always runs this receiver",
        "spec.loki.storage.s3.region: got true/false: quote it",
        "spec.loki.storage.bucketNames: required with storage.type s3",
        "spec.prometheus.chartVersion: got a number: quote it",
        "spec.prometheus.server: unknown field; chart values go under spec.prometheus.config",
        "spec.prometheus.remoteWrite[1].url: credentials do not belong in the URL",
        "spec.grafana.persistence: must be a mapping with fields enabled, size, storageClassName",
    ):
        assert f"  - {line}" in result.stdout
    assert "do-not-put-tokens-here" not in result.stdout
    assert "hunter2" not in result.stdout

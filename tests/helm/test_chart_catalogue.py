"""The local repositories serve what the catalogue says: some versions of every chart without
Helm tests, as upstream publishes them, and the behaviours other tests rely on."""

from __future__ import annotations

import tarfile
from typing import Any

import pytest
import yaml

from shared.helm import ChartReference, HelmClient
from shared.localstack.chartrepo import PackagedChart
from shared.localstack.stack import Stack
from tests.support import REPOSITORY_OF, RUNNABLE_VALUES


def packaged(stack: Stack, name: str, version: str, repository: str | None = None) -> PackagedChart:
    return next(
        c
        for c in stack.charts
        if c.name == name and c.version == version and repository in {None, c.repository}
    )


def manifest(helm: HelmClient, chart: PackagedChart, values: dict[str, Any]) -> list[Any]:
    text = helm.template(
        f"cat-{chart.name}", ChartReference(name=chart.name, path=chart.path), "ns", values=values
    )
    return [doc for doc in yaml.safe_load_all(text) if doc]


def hook_test_pods(documents: list[Any]) -> list[Any]:
    return [
        d
        for d in documents
        if d["kind"] == "Pod" and d["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    ]


def test_every_component_has_a_version_without_tests(local_stack: Stack) -> None:
    without = {c.name for c in local_stack.charts if not c.tests}

    assert without == {"prometheus", "grafana", "loki", "tempo"}


@pytest.mark.parametrize(
    "chart_id",
    ["prometheus-29.26.0", "grafana-12.11.0", "loki-18.10.0", "tempo-2.2.3", "prometheus-29.27.0"],
)
def test_test_templates_are_packaged_only_with_tests(local_stack: Stack, chart_id: str) -> None:
    name, version = chart_id.rsplit("-", 1)
    chart = packaged(local_stack, name, version, REPOSITORY_OF[name])

    with tarfile.open(chart.path) as archive:
        names = archive.getnames()

    assert any("/templates/tests/" in n for n in names) is chart.tests


@pytest.mark.parametrize("name", ["prometheus", "grafana", "loki", "tempo"])
def test_a_version_without_tests_renders_no_test_pod(
    name: str, helm: HelmClient, local_stack: Stack
) -> None:
    with_tests = [c for c in local_stack.charts if c.name == name and c.tests and not c.behaviour]
    without = [c for c in local_stack.charts if c.name == name and not c.tests]

    assert len(hook_test_pods(manifest(helm, with_tests[-1], RUNNABLE_VALUES[name]))) == 1
    for chart in without:
        assert hook_test_pods(manifest(helm, chart, RUNNABLE_VALUES[name])) == []


def test_behaviours_other_tests_rely_on_are_kept(helm: HelmClient, local_stack: Stack) -> None:
    passing = hook_test_pods(manifest(helm, packaged(local_stack, "prometheus", "29.27.0"), {}))
    failing = hook_test_pods(
        manifest(helm, packaged(local_stack, "prometheus", "29.28.0-failing-test"), {})
    )
    broken = manifest(helm, packaged(local_stack, "prometheus", "29.28.0-failing-install"), {})
    stuck = manifest(
        helm,
        packaged(local_stack, "tempo", "2.2.4", REPOSITORY_OF["tempo"]),
        {"testHooks": {"stuck": True}},
    )

    assert [p["metadata"]["annotations"]["gunj.io/test-result"] for p in passing] == ["pass"]
    assert [p["metadata"]["annotations"]["gunj.io/test-result"] for p in failing] == ["fail"]
    assert any(d["metadata"]["name"].endswith("-broken") for d in broken)
    assert any(d["metadata"]["name"].endswith("-stuck-hook") for d in stuck)

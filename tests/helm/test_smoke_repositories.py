"""Both local repositories serve every catalogued chart version: HTTP (index.yaml, with the
upstream layout per repository) and OCI (docker-registry, upstream paths), to Helm 3 and 4."""

from __future__ import annotations

import urllib.request

import pytest
import yaml

from shared.helm import ChartNotFound, ChartReference, HelmClient
from shared.localstack.chartrepo import Catalogue, default_sources
from shared.localstack.stack import Stack

CATALOGUE = Catalogue.load(default_sources() / "catalogue.yaml")
VERSIONS = [
    (chart.repository, chart.name, release.version, release.appVersion)
    for chart in CATALOGUE.charts
    for release in chart.versions
]


def _index(stack: Stack, repository: str) -> dict[str, list[dict[str, object]]]:
    url = f"{stack.repository_url(repository)}/index.yaml"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        entries: dict[str, list[dict[str, object]]] = yaml.safe_load(response.read())["entries"]
    return entries


@pytest.mark.parametrize(("repository", "name", "version", "app_version"), VERSIONS)
def test_http_repository_serves_version(
    repository: str, name: str, version: str, app_version: str, helm: HelmClient, local_stack: Stack
) -> None:
    chart = helm.show_chart(
        ChartReference(
            name=name, version=version, repository=local_stack.repository_url(repository)
        )
    )

    assert (chart["name"], chart["version"], chart["appVersion"]) == (name, version, app_version)


@pytest.mark.parametrize(
    ("repository", "name", "version", "app_version"),
    [v for v in VERSIONS if CATALOGUE.repositories[v[0]].oci],
)
def test_oci_registry_serves_version(
    repository: str, name: str, version: str, app_version: str, helm: HelmClient, local_stack: Stack
) -> None:
    oci_path = CATALOGUE.repositories[repository].oci
    assert oci_path is not None
    chart = helm.show_chart(
        ChartReference(name=name, version=version, repository=local_stack.oci_url(oci_path))
    )

    assert (chart["name"], chart["version"], chart["appVersion"]) == (name, version, app_version)


def test_moved_repository_marks_its_last_release_deprecated(local_stack: Stack) -> None:
    entries = _index(local_stack, "grafana")["grafana"]

    deprecated = {entry["version"]: entry.get("deprecated", False) for entry in entries}

    assert deprecated == {"10.5.15": True, "10.5.14": False}


def test_unknown_version_is_chart_not_found(helm: HelmClient, local_stack: Stack) -> None:
    missing = ChartReference(
        name="prometheus",
        version="99.0.0",
        repository=local_stack.repository_url("prometheus-community"),
    )

    with pytest.raises(ChartNotFound):
        helm.show_chart(missing)

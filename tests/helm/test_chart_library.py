"""Repositories and charts against the local HTTP and OCI repositories: versions, app version
to chart version, upgrade paths, mirrors, the allow-list, caching, credentials, provenance, and
clear errors from broken repositories."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from shared.helm import HelmClient
from shared.helm.charts import ChartLibrary, ChartSource, ProvenanceError
from shared.helm.errors import (
    ChartNotFound,
    InvalidIndex,
    RepositoryAuthFailed,
    RepositoryNotAllowed,
    RepositoryUnavailable,
)
from shared.helm.fetch import Credentials
from shared.helm.repositories import RepositorySettings, known_repositories
from shared.helm.selection import latest, notices, select_version, upgrade_path
from shared.localstack.chartrepo import Catalogue, default_sources
from shared.localstack.stack import Stack
from tests.servers import as_mirrors, chart_repository, failing_repository
from tests.unit.test_values_validation import EXAMPLES

KNOWN = known_repositories()
PROMETHEUS = ChartSource(KNOWN["prometheus-community"].url, "prometheus")
PROMETHEUS_OCI = ChartSource(str(KNOWN["prometheus-community"].oci), "prometheus")
GRAFANA = ChartSource(KNOWN["grafana-community"].url, "grafana")
OLD_GRAFANA = ChartSource(KNOWN["grafana"].url, "grafana")
CATALOGUE = Catalogue.load(default_sources() / "catalogue.yaml")


def catalogued(repository: str, chart: str) -> set[tuple[str, str]]:
    return {
        (v.version, v.appVersion)
        for c in CATALOGUE.charts
        if c.repository == repository and c.name == chart
        for v in c.versions
    }


@pytest.fixture
def settings(local_stack: Stack) -> RepositorySettings:
    env = local_stack.environment()
    return RepositorySettings.from_environment(env)


@pytest.fixture
def library(settings: RepositorySettings, tmp_path: Path) -> ChartLibrary:
    return ChartLibrary(settings, tmp_path / "cache")


def test_upstream_names_are_served_by_their_mirrors(
    library: ChartLibrary, local_stack: Stack
) -> None:
    assert library.location(PROMETHEUS) == local_stack.repository_url("prometheus-community")
    assert library.location(PROMETHEUS_OCI) == local_stack.oci_url("prometheus-community/charts")
    elsewhere = ChartSource("https://charts.example.com/stable", "x")
    with pytest.raises(RepositoryNotAllowed, match=r"charts\.example\.com/stable"):
        library.location(elsewhere)  # the allow-list is on by default


def test_http_and_oci_list_the_catalogued_versions(library: ChartLibrary) -> None:
    expected = catalogued("prometheus-community", "prometheus")

    assert {(v.version, v.app_version) for v in library.versions(PROMETHEUS)} == expected
    assert {(v.version, v.app_version) for v in library.versions(PROMETHEUS_OCI)} == expected


def test_app_version_resolves_to_the_newest_chart_carrying_it(library: ChartLibrary) -> None:
    assert select_version(library.versions(PROMETHEUS), app_version="v3.13.0").version == "29.26.0"
    assert (
        select_version(library.versions(PROMETHEUS_OCI), app_version="3.14.0").version == "29.27.0"
    )
    assert select_version(library.versions(GRAFANA), app_version="13.2.0").version == "12.11.1"
    with pytest.raises(ChartNotFound, match=r"with app version 9\.9\.9"):
        select_version(library.versions(GRAFANA), app_version="9.9.9")


def test_ranges_latest_and_prereleases(library: ChartLibrary) -> None:
    grafana = library.versions(GRAFANA)

    # The catalogue's broken versions are prereleases: a range never lands on one.
    assert select_version(library.versions(PROMETHEUS), constraint="~29.27").version == "29.27.0"
    assert latest(grafana).version == "12.11.1"
    assert latest(grafana, include_prereleases=True).version == "13.0.0-beta.1"
    assert (
        select_version(
            library.versions(PROMETHEUS), constraint=">=29.26 <30", exclude=["29.27.0"]
        ).version
        == "29.26.0"
    )


def test_upgrade_path_never_skips_a_major(library: ChartLibrary) -> None:
    available = [v.version for v in library.versions(PROMETHEUS)]

    assert upgrade_path("27.5.0", available, "29.27.0") == ["28.9.1", "29.27.0"]
    assert upgrade_path("28.9.1", available, "29.27.0") == ["29.27.0"]
    assert upgrade_path("29.27.0", available, "29.27.0") == []


def test_deprecated_chart_that_moved_says_where_it_went(library: ChartLibrary) -> None:
    found = notices(OLD_GRAFANA.repository, library.versions(OLD_GRAFANA), "10.5.15")

    assert [n.kind for n in found] == ["deprecated", "moved"]
    assert "https://grafana-community.github.io/helm-charts" in found[1].message
    assert "2026-01-30" in found[1].message
    assert notices(GRAFANA.repository, library.versions(GRAFANA), "12.11.1") == []


def test_http_and_oci_pull_the_same_archive(library: ChartLibrary) -> None:
    over_http = library.pull(PROMETHEUS, "29.27.0")
    over_oci = library.pull(PROMETHEUS_OCI, "29.27.0")

    assert over_http.digest == over_oci.digest
    assert over_http.path == over_oci.path  # stored once, by content
    with tarfile.open(over_http.path) as archive:
        chart = yaml.safe_load(archive.extractfile("prometheus/Chart.yaml").read())  # type: ignore[union-attr]
    assert (chart["version"], chart["appVersion"]) == ("29.27.0", "v3.14.0")


def test_installs_from_the_pulled_archive(library: ChartLibrary, helm: HelmClient) -> None:
    pulled = library.pull(GRAFANA, "12.11.1")

    assert helm.show_chart(pulled.reference())["version"] == "12.11.1"


def _copy_repository(local_stack: Stack, name: str, into: Path) -> Path:
    shutil.copytree(local_stack.folder / "charts" / name, into / name)
    return into / name


def test_pulled_charts_and_indexes_are_reused(local_stack: Stack, tmp_path: Path) -> None:
    root = _copy_repository(local_stack, "prometheus-community", tmp_path)
    with chart_repository(root.parent) as served:
        source = ChartSource(f"{served.url}/prometheus-community", "prometheus")
        first = ChartLibrary(as_mirrors(served.url), tmp_path / "cache", index_max_age=0)
        first.pull(source, "29.27.0")
        first.pull(source, "29.27.0")
        # A new instance (a new function process) with the same disk cache.
        second = ChartLibrary(as_mirrors(served.url), tmp_path / "cache", index_max_age=0)
        second.pull(source, "29.27.0")

    assert served.count("prometheus-29.27.0.tgz") == 1
    assert served.count("index.yaml", 200) == 1
    assert served.count("index.yaml", 304) == 2  # revalidated with its ETag, not downloaded
    assert (first.indexes.downloads, first.indexes.revalidations) == (1, 1)


def test_private_repository_needs_its_credentials(local_stack: Stack, tmp_path: Path) -> None:
    root = _copy_repository(local_stack, "grafana-community", tmp_path)
    secret = "p4ss-never-printed"
    with chart_repository(root.parent, credentials=f"reader:{secret}") as served:
        url = f"{served.url}/grafana-community"
        anonymous = ChartLibrary(as_mirrors(url), tmp_path / "a")
        with pytest.raises(RepositoryAuthFailed) as refused:
            anonymous.versions(ChartSource(url, "loki"))
        authorized = ChartLibrary(as_mirrors(url), tmp_path / "b")
        source = ChartSource(url, "loki", Credentials("reader", secret))
        pulled = authorized.pull(source, "18.11.0")

    assert not refused.value.transient
    assert pulled.version == "18.11.0"
    assert secret not in repr(source) + str(refused.value)


def test_allow_list_refuses_other_repositories(local_stack: Stack, tmp_path: Path) -> None:
    env = {
        **local_stack.environment(),
        "GUNJ_ALLOWED_REPOSITORIES": "https://prometheus-community.github.io/helm-charts",
    }
    library = ChartLibrary(RepositorySettings.from_environment(env), tmp_path)

    assert library.versions(PROMETHEUS)
    with pytest.raises(RepositoryNotAllowed) as refused:
        library.versions(GRAFANA)
    assert not refused.value.transient


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_repository_server_errors_are_transient(status: int, tmp_path: Path) -> None:
    with failing_repository(status) as url, pytest.raises(RepositoryUnavailable) as raised:
        ChartLibrary(as_mirrors(url), tmp_path).versions(ChartSource(url, "x"))

    assert raised.value.transient
    assert str(status) in str(raised.value)


def test_unreachable_repository_is_transient(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connection refused

        with pytest.raises(RepositoryUnavailable, match="cannot be reached") as raised:
            ChartLibrary(as_mirrors(f"http://127.0.0.1:{port}"), tmp_path).versions(
                ChartSource(f"http://127.0.0.1:{port}", "x")
            )
    assert raised.value.transient


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"entries: [unclosed\n", "not valid YAML"),
        (b"apiVersion: v1\ngenerated: now\n", "no entries"),
        (b"<html>Site not found</html>", "no entries"),
    ],
)
def test_broken_index_is_a_permanent_error(content: bytes, message: str, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "index.yaml").write_bytes(content)
    with chart_repository(tmp_path) as served, pytest.raises(InvalidIndex, match=message) as raised:
        ChartLibrary(as_mirrors(served.url), tmp_path / "cache").versions(
            ChartSource(f"{served.url}/repo", "x")
        )
    assert not raised.value.transient


def test_missing_index_and_missing_chart_are_not_found(local_stack: Stack, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with (
        chart_repository(tmp_path) as served,
        pytest.raises(ChartNotFound, match="not a chart repository"),
    ):
        ChartLibrary(as_mirrors(served.url), tmp_path / "c").versions(
            ChartSource(f"{served.url}/empty", "x")
        )
    library = ChartLibrary(
        RepositorySettings.from_environment(local_stack.environment()), tmp_path / "d"
    )
    with pytest.raises(ChartNotFound, match="nginx"):
        library.versions(ChartSource(PROMETHEUS.repository, "nginx"))
    with pytest.raises(ChartNotFound):
        library.versions(ChartSource(PROMETHEUS_OCI.repository, "nginx"))
    with pytest.raises(ChartNotFound, match=r"99\.0\.0"):
        library.pull(PROMETHEUS, "99.0.0")


def test_archive_that_does_not_match_its_digest_is_refused(
    local_stack: Stack, tmp_path: Path
) -> None:
    root = _copy_repository(local_stack, "prometheus-community", tmp_path)
    index = yaml.safe_load((root / "index.yaml").read_text())
    for entry in index["entries"]["prometheus"]:
        entry["digest"] = "0" * 64
    (root / "index.yaml").write_text(yaml.safe_dump(index))
    with chart_repository(root.parent) as served, pytest.raises(InvalidIndex, match="digest"):
        ChartLibrary(as_mirrors(served.url), tmp_path / "cache").pull(
            ChartSource(f"{served.url}/prometheus-community", "prometheus"), "29.27.0"
        )


def _gpg(home: Path, *args: str) -> bytes:
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", *args], capture_output=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two key pairs in the legacy keyring files Helm reads."""
    keys = {}
    for owner in ("signer", "stranger"):
        home = tmp_path_factory.mktemp(f"gpg-{owner}")
        home.chmod(0o700)
        _gpg(
            home,
            "--passphrase",
            "",
            "--quick-generate-key",
            f"{owner} <{owner}@gunj.test>",
            "rsa2048",
            "sign",
            "never",
        )
        (home / "secring.gpg").write_bytes(_gpg(home, "--export-secret-keys"))
        (home / "pubring.gpg").write_bytes(_gpg(home, "--export"))
        keys[owner] = home
    return keys


def test_provenance_is_verified_with_the_keyring(
    helm: HelmClient, local_stack: Stack, signing_keys: dict[str, Path], tmp_path: Path
) -> None:
    repo = tmp_path / "signed"
    repo.mkdir()
    source_chart = tmp_path / "chart"
    with tarfile.open(
        next(c.path for c in local_stack.charts if c.name == "tempo" and c.version == "2.2.4")
    ) as archive:
        archive.extractall(source_chart, filter="data")
    helm.run(
        [
            "package",
            str(source_chart / "tempo"),
            "--destination",
            str(repo),
            "--sign",
            "--key",
            "signer",
            "--keyring",
            str(signing_keys["signer"] / "secring.gpg"),
        ]
    )
    helm.run(
        [
            "package",
            str(source_chart / "tempo"),
            "--destination",
            str(tmp_path / "plain"),
            "--version",
            "2.2.5",
        ]
    )
    shutil.copy(tmp_path / "plain" / "tempo-2.2.5.tgz", repo)
    helm.run(["repo", "index", str(repo)])

    with chart_repository(tmp_path) as served:
        source = ChartSource(f"{served.url}/signed", "tempo")
        trusting = ChartLibrary(
            as_mirrors(served.url),
            tmp_path / "c1",
            keyring=signing_keys["signer"] / "pubring.gpg",
            helm=helm.binary,
        )
        assert trusting.pull(source, "2.2.4", verify=True).verified
        with pytest.raises(ProvenanceError, match="no provenance"):
            trusting.pull(source, "2.2.5", verify=True)
        other = ChartLibrary(
            as_mirrors(served.url),
            tmp_path / "c2",
            keyring=signing_keys["stranger"] / "pubring.gpg",
            helm=helm.binary,
        )
        with pytest.raises(ProvenanceError, match="does not verify"):
            other.pull(source, "2.2.4", verify=True)


def test_cli_plan_resolves_versions_through_the_mirrors(local_stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "plan", str(EXAMPLES / "production.yaml")],
        env={**os.environ, **local_stack.environment()},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "version: 29.27.0 (app v3.14.0; the newest for ~29.27)" in result.stdout
    assert "version: 12.11.1 (app 13.2.0;" in result.stdout

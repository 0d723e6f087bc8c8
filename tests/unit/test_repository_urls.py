"""What gunj will fetch from a repository, decided without a network: URLs normalised before
they are checked, the allow-list on by default (and what replaces it), plain HTTP only for
mirrors, OCI prefixes covering their registry API, addresses that are not public refused, and
the limits read from the environment with clear errors."""

from __future__ import annotations

import pytest

from shared.helm.errors import RepositoryNotAllowed
from shared.helm.fetch import refused_address
from shared.helm.limits import RepositoryLimits
from shared.helm.repositories import RepositorySettings, default_allow_list, known_repositories
from shared.helm.urls import UnsafeUrl, normalise, origin_of, under

KNOWN = known_repositories()
PROMETHEUS = KNOWN["prometheus-community"]


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Charts.Example:443/a/", "https://charts.example/a"),
        ("https://charts.example//a///b", "https://charts.example/a/b"),
        ("https://charts.example/a/./b/../c", "https://charts.example/a/c"),
        ("https://charts.example/a/%2e%2E/b", "https://charts.example/b"),
        ("https://charts.example/a/%2E/b%7e", "https://charts.example/a/b~"),
        ("https://charts.example/a%20b?x=1#top", "https://charts.example/a%20b?x=1"),
        ("http://127.0.0.1:80/x", "http://127.0.0.1/x"),
        ("oci://GHCR.io/org/", "oci://ghcr.io/org"),
        ("https://charts.example./a", "https://charts.example/a"),
        ("https://[::1]:8443/a", "https://[::1]:8443/a"),
    ],
)
def test_urls_are_normalised_before_they_are_checked(url: str, normal: str) -> None:
    assert normalise(url) == normal


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme is file"),
        ("ftp://charts.example/x", "scheme is ftp"),
        ("//charts.example/x", "scheme is missing"),
        ("https://user:pw@charts.example/x", "user information"),
        ("https://charts.example/../etc/passwd", "climbs above the root"),
        ("https://charts.example/a/%2e%2e/%2e%2e/b", "climbs above the root"),
        ("https://charts.example/a%2F..%2F..%2Fb", "escapes a slash"),
        ("https://charts.example/a%5c..", "escapes a slash"),
        ("https://charts.example/a\\..\\b", "backslashes"),
        ("https://charts.example/a b", "spaces"),
        ("https://charts.example:99999/", "port"),
        ("https://chärts.example/", "not ASCII"),
        ("https://charts_example/", "not a valid host name"),
        ("https:///x", "names no host"),
    ],
)
def test_urls_that_cannot_be_normalised_safely_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl, match=reason):
        normalise(url)


def test_prefixes_match_whole_path_segments_on_the_same_origin() -> None:
    assert under("https://host/charts/x.tgz", "https://host/charts")
    assert under("https://host/charts", "https://host/charts/")
    assert not under("https://host/charts-other/x.tgz", "https://host/charts")
    assert not under("https://host:8443/charts/x.tgz", "https://host/charts")
    assert not under("http://host/charts/x.tgz", "https://host/charts")
    assert not under("https://host.evil/charts/x.tgz", "https://host/charts")


def test_the_default_allow_list_holds_the_supported_charts_repositories() -> None:
    listed = default_allow_list()

    for known in KNOWN.values():
        assert known.url in listed and (known.oci is None or known.oci in listed)
        assert known.archives in listed  # where their indexes keep the chart archives
    assert "https://release-assets.githubusercontent.com" in listed  # GitHub's redirects
    settings = RepositorySettings()
    assert settings.allowed is None and set(listed) <= set(settings.allow_list)
    settings.check_allowed(f"{PROMETHEUS.url}/")
    settings.check_allowed(f"{PROMETHEUS.oci}/prometheus")
    with pytest.raises(RepositoryNotAllowed) as refused:
        settings.check_allowed("https://charts.example.com/stable")
    message = str(refused.value)
    assert "https://charts.example.com/stable" in message
    assert "GUNJ_ALLOWED_REPOSITORIES" in message and "allowed_repositories" in message


def test_mirrors_are_allowed_and_an_explicit_list_replaces_the_default() -> None:
    mirrors = {
        PROMETHEUS.url: "http://127.0.0.1:8080/prometheus",
        "https://charts.example/team": "https://mirror.internal/team",
    }
    default = RepositorySettings(mirrors=mirrors)
    default.check_allowed("https://charts.example/team/sub")  # a mirrored upstream
    default.check_allowed("http://127.0.0.1:8080/prometheus")  # a mirror, named directly
    assert default.locate(PROMETHEUS.url) == "http://127.0.0.1:8080/prometheus"

    explicit = RepositorySettings(mirrors=mirrors, allowed=(PROMETHEUS.url,))
    explicit.check_allowed(PROMETHEUS.url)
    explicit.check_allowed("http://127.0.0.1:8080/prometheus")  # where the allowed one is served
    for refused in (KNOWN["grafana-community"].url, "https://charts.example/team"):
        with pytest.raises(RepositoryNotAllowed, match="not under any prefix"):
            explicit.check_allowed(refused)


def test_fetched_urls_pass_the_scheme_rules_and_the_allow_list() -> None:
    settings = RepositorySettings(
        mirrors={PROMETHEUS.url: "http://127.0.0.1:8080/prometheus"},
        plain_http_hosts=frozenset({"127.0.0.1:5000"}),
    )

    def check(url: str) -> str:
        return settings.check_fetch(url, repository=PROMETHEUS.url, what="chart archive")

    assert check("http://127.0.0.1:8080/prometheus/./x.tgz") == (
        "http://127.0.0.1:8080/prometheus/x.tgz"
    )
    assert check(f"{PROMETHEUS.archives}/prometheus-29.27.0/prometheus-29.27.0.tgz")
    # An OCI prefix covers its registry API, over https.
    assert check("https://ghcr.io/v2/prometheus-community/charts/prometheus/tags/list?n=1000")
    refusals = {
        "file:///etc/passwd": "scheme is file",
        # Normalised first: outside the mirror, so not the mirror's plain http either.
        "http://127.0.0.1:8080/prometheus/../secret/x.tgz": "plain http",
        "http://127.0.0.1:8080/prometheus/%2e%2e/secret/x.tgz": "plain http",
        "https://ghcr.io/v2/prometheus-community/charts/../../other/x/tags/list": "allow-list",
        "http://127.0.0.1:9999/prometheus/x.tgz": "plain http is used only for a mirror",
        "http://github.com/prometheus-community/helm-charts/releases/download/x.tgz": "plain",
        "https://github.com/someone-else/helm-charts/releases/download/x.tgz": "allow-list",
        "https://ghcr.io/v2/someone-else/charts/x/tags/list": "not on the allow-list",
        "https://ghcr.io/token?scope=x": "not on the allow-list",
        "oci://ghcr.io/prometheus-community/charts/prometheus": "not fetched directly",
    }
    for url, reason in refusals.items():
        with pytest.raises(RepositoryNotAllowed, match=reason) as refused:
            check(url)
        assert str(refused.value).startswith(f"repository {PROMETHEUS.url}: chart archive ")
    # A registry's own token service, on its origin, is accepted when the caller says so.
    registry = settings.check_fetch(
        "https://ghcr.io/v2/prometheus-community/charts/x/manifests/1.0.0",
        repository=PROMETHEUS.oci or "",
        what="manifest",
    )
    assert settings.check_fetch(
        "https://ghcr.io/token?scope=x",
        repository=PROMETHEUS.oci or "",
        what="token service",
        origin=origin_of(registry),
    )
    assert settings.mirror_hosts == frozenset({("127.0.0.1", 8080)})


def test_a_plain_http_registry_is_reached_over_http() -> None:
    settings = RepositorySettings(
        mirrors={"oci://ghcr.io/org": "oci://127.0.0.1:5000/org"},
        plain_http_hosts=frozenset({"127.0.0.1:5000"}),
    )

    assert settings.registry("127.0.0.1:5000") == "http://127.0.0.1:5000/v2"
    assert settings.registry("ghcr.io") == "https://ghcr.io/v2"
    assert settings.check_fetch(
        "http://127.0.0.1:5000/v2/org/chart/tags/list", repository="oci://ghcr.io/org", what="x"
    )
    assert settings.mirror_hosts == frozenset({("127.0.0.1", 5000)})


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.0.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "not a public address"),
        ("0.0.0.0", "private"),  # noqa: S104 - an address to refuse, not to bind
        ("224.0.0.1", "not a public address"),
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str, reason: str) -> None:
    assert reason in (refused_address(address) or "")


def test_public_addresses_are_not_refused() -> None:
    assert refused_address("140.82.121.4") is None
    assert refused_address("2606:50c0:8000::154") is None


def test_limits_come_from_the_environment_with_clear_errors() -> None:
    limits = RepositoryLimits.from_environment(
        {"GUNJ_REPOSITORY_INDEX_ENTRIES": "500", "GUNJ_REPOSITORY_FETCH_SECONDS": "2.5"}
    )
    assert (limits.index_entries, limits.fetch_seconds) == (500, 2.5)
    assert limits.index_bytes == RepositoryLimits().index_bytes
    with pytest.raises(ValueError, match="GUNJ_REPOSITORY_TAG_PAGES must be a number"):
        RepositoryLimits.from_environment({"GUNJ_REPOSITORY_TAG_PAGES": "many"})
    with pytest.raises(ValueError, match="GUNJ_REPOSITORY_ARCHIVE_BYTES must be greater than 0"):
        RepositoryLimits.from_environment({"GUNJ_REPOSITORY_ARCHIVE_BYTES": "0"})
    settings = RepositorySettings.from_environment({"GUNJ_REPOSITORY_INDEX_ENTRIES": "7"})
    assert settings.limits.index_entries == 7


def test_a_setting_that_is_not_a_repository_url_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="GUNJ_ALLOWED_REPOSITORIES: file:///x"):
        RepositorySettings.from_environment({"GUNJ_ALLOWED_REPOSITORIES": "file:///x"})
    with pytest.raises(ValueError, match="GUNJ_REPOSITORY_MIRRORS"):
        RepositorySettings(mirrors={"https://a.example": "https://u:p@b.example"})

"""A repository's answers are hostile input: what its index, its redirects and its registry's
token challenge point at is checked before anything is fetched, its credentials never leave its
origin, and one repository that is huge, endless or slow fails with an error naming it and the
limit, in bounded time, while other repositories are still served.

Every repository here is a real HTTP server on 127.0.0.1, talking to the real client: a private
repository asking for Basic credentials, servers that record the ``Authorization`` header of
every request they get, a registry speaking the distribution API's token challenge, servers
that trickle or never answer."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared.helm.charts import ChartLibrary, ChartSource
from shared.helm.errors import (
    HelmError,
    RepositoryLimitExceeded,
    RepositoryNotAllowed,
    RepositoryTimedOut,
    RepositoryUnavailable,
)
from shared.helm.fetch import Credentials
from shared.helm.limits import RepositoryLimits
from shared.helm.repositories import RepositorySettings
from tests.servers import (
    Answer,
    Served,
    answering,
    as_mirrors,
    chart_repository,
    silent_repository,
    trickling_repository,
)

SECRET = "p4ss-that-stays-home"
CREDENTIALS = Credentials("reader", SECRET)
BASIC = CREDENTIALS.basic()


def chart_archive(name: str = "demo", version: str = "1.0.0") -> bytes:
    chart = yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version}).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(f"{name}/Chart.yaml")
        info.size = len(chart)
        archive.addfile(info, io.BytesIO(chart))
    return buffer.getvalue()


ARCHIVE = chart_archive()
DIGEST = hashlib.sha256(ARCHIVE).hexdigest()


def index(url: str, *, digest: str = DIGEST) -> bytes:
    """An index listing demo 1.0.0 with its archive at ``url`` (relative or absolute)."""
    entry = {"name": "demo", "version": "1.0.0", "urls": [url], "digest": digest}
    return yaml.safe_dump({"apiVersion": "v1", "entries": {"demo": [entry]}}).encode()


@dataclass
class Private:
    """A private repository at ``url`` (``<server>/repo``): Basic credentials or 401."""

    server: Served
    chart_url: str = "demo-1.0.0.tgz"
    redirect: str | None = None
    """Where ``/repo/demo-1.0.0.tgz`` redirects to, if anywhere."""

    @property
    def url(self) -> str:
        return f"{self.server.url}/repo"

    def answer(self, path: str, authorization: str | None) -> Answer:
        if authorization != BASIC:
            return 401, {"WWW-Authenticate": 'Basic realm="charts"'}, b""
        if path == "/repo/index.yaml":
            return 200, {}, index(self.chart_url)
        if path == "/repo/demo-1.0.0.tgz":
            if self.redirect is not None:
                return 302, {"Location": self.redirect}, b""
            return 200, {}, ARCHIVE
        return 404, {}, b""

    def paths(self) -> list[str]:
        return [path for path, _ in self.server.requests]


@pytest.fixture
def private() -> Iterator[Private]:
    holder: list[Private] = []

    def answer(path: str, authorization: str | None) -> Answer:
        return holder[0].answer(path, authorization)

    with answering(answer) as server:
        holder.append(Private(server))
        yield holder[0]


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Served]:
    """Another origin (another port on 127.0.0.1) serving the same archive to anyone."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "demo-1.0.0.tgz").write_bytes(ARCHIVE)
    with chart_repository(tmp_path / "elsewhere") as served:
        yield served


def pull(settings: RepositorySettings, repository: str, cache: Path) -> Path:
    source = ChartSource(repository, "demo", CREDENTIALS)
    return ChartLibrary(settings, cache).pull(source, "1.0.0").path


# --- chart URLs from an index ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chart_url", "reason"),
    [
        ("file:///etc/passwd", "its scheme is file"),
        ("{other}/demo-1.0.0.tgz", "plain http is used only for a mirror"),
        ("https://127.0.0.1:{other_port}/demo-1.0.0.tgz", "resolves to 127.0.0.1, a loopback"),
        ("https://localhost:{other_port}/demo-1.0.0.tgz", "a loopback address"),
        ("https://169.254.169.254/latest/meta-data/demo.tgz", "a link-local address"),
        ("https://charts.elsewhere.example/demo-1.0.0.tgz", "is not on the allow-list"),
        ("../outside/demo-1.0.0.tgz", "plain http is used only for a mirror"),
        ("{repo}/../outside/demo-1.0.0.tgz", "plain http is used only for a mirror"),
        ("{repo}/%2e%2e/outside/demo-1.0.0.tgz", "plain http is used only for a mirror"),
        ("{repo}/..%2f..%2fetc/demo-1.0.0.tgz", "escapes a slash"),
    ],
    ids=[
        "file",
        "loopback-not-a-mirror",
        "loopback-allow-listed",
        "name-of-loopback",
        "link-local",
        "unlisted-host",
        "relative-dot-dot",
        "absolute-dot-dot",
        "encoded-dot-dot",
        "encoded-slash",
    ],
)
def test_a_chart_url_the_index_points_at_is_checked_before_it_is_fetched(
    chart_url: str, reason: str, private: Private, elsewhere: Served, tmp_path: Path
) -> None:
    other_port = urlsplit(elsewhere.url).port
    private.chart_url = chart_url.format(
        other=elsewhere.url, other_port=other_port, repo=private.url
    )
    # Allowed: the private repository (a mirror, so it may be on 127.0.0.1 over http), and,
    # to show the address check at connect time, https URLs that point at loopback and
    # link-local addresses.
    settings = RepositorySettings(
        mirrors={private.url: private.url},
        allowed=(
            private.url,
            f"https://127.0.0.1:{other_port}",
            f"https://localhost:{other_port}",
            "https://169.254.169.254",
        ),
    )

    with pytest.raises(RepositoryNotAllowed) as refused:
        pull(settings, private.url, tmp_path / "cache")

    message = str(refused.value)
    assert not refused.value.transient
    assert message.startswith(f"repository {private.url}: chart archive of demo 1.0.0 ")
    assert reason in message and SECRET not in message
    assert private.paths() == ["/repo/index.yaml"]  # nothing else, on its own origin either
    assert elsewhere.requests == []


def test_credentials_never_go_to_a_chart_url_on_another_origin(
    private: Private, elsewhere: Served, tmp_path: Path
) -> None:
    private.chart_url = f"{elsewhere.url}/demo-1.0.0.tgz"  # another port: another origin
    settings = as_mirrors(private.url, elsewhere.url)

    pulled = pull(settings, private.url, tmp_path / "cache")

    assert pulled.read_bytes() == ARCHIVE
    assert elsewhere.authorizations == [("/demo-1.0.0.tgz", None)]
    assert private.server.authorizations == [("/repo/index.yaml", BASIC)]


def test_a_chart_url_on_the_repositorys_own_origin_gets_its_credentials(
    private: Private, tmp_path: Path
) -> None:
    pulled = pull(as_mirrors(private.url), private.url, tmp_path / "cache")

    assert pulled.read_bytes() == ARCHIVE
    assert private.server.authorizations == [
        ("/repo/index.yaml", BASIC),
        ("/repo/demo-1.0.0.tgz", BASIC),
    ]


# --- redirects ---------------------------------------------------------------------------------


def test_a_redirect_to_another_origin_loses_the_credentials(
    private: Private, elsewhere: Served, tmp_path: Path
) -> None:
    private.redirect = f"{elsewhere.url}/demo-1.0.0.tgz"

    pulled = pull(as_mirrors(private.url, elsewhere.url), private.url, tmp_path / "cache")

    assert pulled.read_bytes() == ARCHIVE
    assert elsewhere.authorizations == [("/demo-1.0.0.tgz", None)]


def test_a_redirect_off_the_allow_list_is_refused(
    private: Private, elsewhere: Served, tmp_path: Path
) -> None:
    private.redirect = f"{elsewhere.url}/demo-1.0.0.tgz"  # elsewhere is no mirror here

    with pytest.raises(RepositoryNotAllowed, match="plain http is used only for a mirror"):
        pull(as_mirrors(private.url), private.url, tmp_path / "cache")

    assert elsewhere.requests == []


def test_endless_redirects_are_refused(private: Private, tmp_path: Path) -> None:
    private.redirect = f"{private.url}/demo-1.0.0.tgz"

    with pytest.raises(RepositoryNotAllowed, match="redirected more than 5 times") as refused:
        pull(as_mirrors(private.url), private.url, tmp_path / "cache")

    assert "GUNJ_REPOSITORY_REDIRECTS" in str(refused.value)
    assert private.paths().count("/repo/demo-1.0.0.tgz") == 6


# --- OCI token realms --------------------------------------------------------------------------

UPSTREAM_OCI = "oci://registry.example.test/charts"
CONFIG = json.dumps({"name": "demo", "version": "1.0.0", "appVersion": "9.9.9"}).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "config": {
            "mediaType": "application/vnd.cncf.helm.config.v1+json",
            "digest": CONFIG_DIGEST,
        },
        "layers": [],
    }
).encode()


def registry(
    realm: Callable[[], str], tags: Callable[[str], Answer] | None = None
) -> Callable[[str, str | None], Answer]:
    """A registry for ``charts/demo`` whose token challenge names ``realm()``; its own
    ``/token`` issues a token for the Basic credentials."""

    served = {
        "/v2/charts/demo/manifests/1.0.0": MANIFEST,
        f"/v2/charts/demo/blobs/{CONFIG_DIGEST}": CONFIG,
    }

    def answer(path: str, authorization: str | None) -> Answer:
        if path.startswith("/token"):
            granted = authorization == BASIC
            return (200, {}, b'{"token": "granted"}') if granted else (401, {}, b"")
        if authorization != "Bearer granted":
            challenge = f'Bearer realm="{realm()}",service="registry",scope="pull"'
            return 401, {"WWW-Authenticate": challenge}, b""
        if path.startswith("/v2/charts/demo/tags/list"):
            listed = (200, {}, b'{"tags": ["1.0.0", "latest"]}')
            return tags(path) if tags is not None else listed
        found = served.get(path)
        return (200, {}, found) if found is not None else (404, {}, b"")

    return answer


def oci_settings(registry_url: str, *mirrors: str, **settings: object) -> RepositorySettings:
    host = urlsplit(registry_url).netloc
    return RepositorySettings(
        mirrors={UPSTREAM_OCI: f"oci://{host}/charts", **{m: m for m in mirrors}},
        plain_http_hosts=frozenset({host}),
        **settings,  # type: ignore[arg-type]
    )


def oci_versions(settings: RepositorySettings, cache: Path) -> list[str]:
    library = ChartLibrary(settings, cache)
    return [v.version for v in library.versions(ChartSource(UPSTREAM_OCI, "demo", CREDENTIALS))]


def test_a_token_realm_on_the_registrys_own_origin_gets_the_credentials(tmp_path: Path) -> None:
    holder: list[Served] = []
    with answering(registry(lambda: f"{holder[0].url}/token")) as served:
        holder.append(served)
        versions = oci_versions(oci_settings(served.url), tmp_path)

    assert versions == ["1.0.0"]
    tokens = [auth for path, auth in served.authorizations if path.startswith("/token")]
    assert tokens == [BASIC]


def test_a_token_realm_on_another_origin_gets_nothing(tmp_path: Path) -> None:
    with (
        answering(lambda path, auth: (200, {}, b'{"token": "granted"}')) as realm,
        answering(registry(lambda: f"{realm.url}/token")) as served,
        pytest.raises(RepositoryNotAllowed) as refused,
    ):
        oci_versions(oci_settings(served.url), tmp_path)

    message = str(refused.value)
    assert message.startswith(f"repository {UPSTREAM_OCI}: token service {realm.url}/token")
    assert SECRET not in message
    assert realm.requests == []  # no request at all: the credentials never left
    assert all(auth is None for _, auth in served.authorizations)


def test_a_token_realm_the_operator_allowed_elsewhere_gets_the_credentials(
    tmp_path: Path,
) -> None:
    with (
        answering(lambda path, auth: (200, {}, b'{"token": "granted"}')) as realm,
        answering(registry(lambda: f"{realm.url}/token")) as served,
    ):
        versions = oci_versions(oci_settings(served.url, realm.url), tmp_path)

    assert versions == ["1.0.0"]
    assert [auth for _, auth in realm.authorizations] == [BASIC]


# --- limits ------------------------------------------------------------------------------------


def million_entries() -> bytes:
    lines = ["apiVersion: v1", "entries:", "  demo:"]
    lines += [f"  - version: 1.0.{n}" for n in range(1_000_000)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.timeout(120)  # a hang, not a measure: it ends in seconds
def test_an_index_of_a_million_entries_is_refused_within_its_limits(tmp_path: Path) -> None:
    (tmp_path / "huge").mkdir()
    (tmp_path / "huge" / "index.yaml").write_bytes(million_entries())
    with chart_repository(tmp_path) as served:
        url = f"{served.url}/huge"
        library = ChartLibrary(as_mirrors(url), tmp_path / "cache")
        with pytest.raises(RepositoryLimitExceeded) as refused:
            library.versions(ChartSource(url, "demo"))

    message = str(refused.value)
    assert not refused.value.transient
    assert message.startswith(f"repository {url}: index {url}/index.yaml has more than 100000")
    assert "GUNJ_REPOSITORY_INDEX_ENTRIES" in message


@pytest.mark.parametrize(
    ("limits", "variable"),
    [
        (RepositoryLimits(index_bytes=100), "GUNJ_REPOSITORY_INDEX_BYTES"),
        (RepositoryLimits(archive_bytes=100), "GUNJ_REPOSITORY_ARCHIVE_BYTES"),
    ],
)
def test_an_answer_over_its_size_limit_is_refused_naming_it(
    limits: RepositoryLimits, variable: str, private: Private, tmp_path: Path
) -> None:
    with pytest.raises(RepositoryLimitExceeded) as refused:
        pull(as_mirrors(private.url, limits=limits), private.url, tmp_path / "cache")

    assert str(refused.value).startswith(f"repository {private.url}: ")
    assert "larger than 100 bytes" in str(refused.value) and variable in str(refused.value)


def test_an_endless_tag_list_is_refused_after_its_page_limit(tmp_path: Path) -> None:
    def endless(path: str) -> Answer:
        page = json.dumps({"tags": [f"1.0.{len(path)}"]}).encode()
        return 200, {"Link": f'<{path}&last=x>; rel="next"'}, page

    holder: list[Served] = []
    with answering(registry(lambda: f"{holder[0].url}/token", endless)) as served:
        holder.append(served)
        settings = oci_settings(served.url, limits=RepositoryLimits(tag_pages=3))
        with pytest.raises(RepositoryLimitExceeded, match="more than 3 pages") as refused:
            oci_versions(settings, tmp_path)

    assert "GUNJ_REPOSITORY_TAG_PAGES" in str(refused.value)
    pages = [p for p, status in served.requests if "tags/list" in p and status == 200]
    assert len(pages) == 3


@pytest.mark.timeout(60)  # a hang, not a measure
def test_a_trickling_repository_ends_at_its_time_limit(tmp_path: Path) -> None:
    with trickling_repository(interval=0.2) as slow:
        settings = as_mirrors(slow.url, limits=RepositoryLimits(fetch_seconds=2))
        with pytest.raises(RepositoryTimedOut) as raised:
            ChartLibrary(settings, tmp_path).versions(ChartSource(slow.url, "demo"))

    assert raised.value.transient
    assert str(raised.value).startswith(f"repository {slow.url}: gave up on index after 2 s")
    assert "GUNJ_REPOSITORY_FETCH_SECONDS" in str(raised.value)


@pytest.mark.timeout(60)  # a hang, not a measure
def test_a_silent_repository_ends_at_its_read_timeout(tmp_path: Path) -> None:
    with silent_repository() as url:
        settings = as_mirrors(url, limits=RepositoryLimits(read_seconds=1))
        with pytest.raises(RepositoryUnavailable, match="no answer within 1 s") as raised:
            ChartLibrary(settings, tmp_path).versions(ChartSource(url, "demo"))

    assert raised.value.transient and str(raised.value).startswith(f"repository {url}: ")


@pytest.mark.timeout(60)  # a hang, not a measure
def test_a_slow_repository_holds_up_only_its_own_operations(
    private: Private, tmp_path: Path
) -> None:
    with trickling_repository(interval=0.2) as slow:
        library = ChartLibrary(as_mirrors(slow.url, private.url), tmp_path)
        failures: list[HelmError] = []

        def stuck() -> None:
            try:
                library.versions(ChartSource(slow.url, "demo"))
            except HelmError as error:
                failures.append(error)

        waiting = threading.Thread(target=stuck)
        waiting.start()
        assert slow.responding.wait(30)
        pulled = library.pull(ChartSource(private.url, "demo", CREDENTIALS), "1.0.0")
        still_waiting = waiting.is_alive()
        slow.stop.set()
        waiting.join(30)

    assert pulled.path.read_bytes() == ARCHIVE
    assert still_waiting  # the other repository was served while this one was still slow
    assert [type(f) for f in failures] == [RepositoryUnavailable]
    assert "the answer broke off" in str(failures[0])


# --- the allow-list ----------------------------------------------------------------------------


def test_an_unlisted_repository_is_refused_by_default_naming_it_and_how_to_allow_it(
    elsewhere: Served, tmp_path: Path
) -> None:
    library = ChartLibrary(RepositorySettings.from_environment({}), tmp_path)

    for repository in ("https://charts.example.com/stable", elsewhere.url):
        with pytest.raises(RepositoryNotAllowed) as refused:
            library.versions(ChartSource(repository, "demo"))
        message = str(refused.value)
        assert message.startswith(f"repository {repository} is not on the allow-list")
        assert "GUNJ_ALLOWED_REPOSITORIES" in message and "GUNJ_REPOSITORY_MIRRORS" in message
    assert elsewhere.requests == []

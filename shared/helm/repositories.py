"""Chart repositories: the ones gunj knows, the mirrors a site maps them to, and the allow-list
every URL gunj fetches must be on.

Settings come from the environment, so the same functions run against upstream on the internet
and against an internal mirror in a cluster without it:

- ``GUNJ_REPOSITORY_MIRRORS``: ``upstream=mirror`` pairs, comma-separated (or a JSON object);
  a URL starting with ``upstream`` is fetched from ``mirror`` instead. Works for https and oci
  (and plain http for a mirror: a mirror is the operator's own).
- ``GUNJ_ALLOWED_REPOSITORIES``: comma-separated URL prefixes. Unset, the default list: the
  upstream HTTP and OCI repositories of the supported charts, where their indexes keep the
  chart archives and where GitHub redirects those downloads, plus every mirror's upstream. A
  list given replaces the default. Either way each allowed prefix's mirror is allowed too.
- ``GUNJ_PLAIN_HTTP_REGISTRIES``: hosts (``host:port``) reached over plain HTTP (local
  registries); otherwise only a mirror may be plain HTTP.

Two checks use the list: the repository a spec names (before mirroring), and every URL fetched
for it (after mirroring): the index, each chart archive, OCI manifests, blobs and tag pages, a
registry's token service and each redirect, all normalised first (:mod:`.urls`). Whether the
host is on a private address is checked when the connection is made (:mod:`.fetch`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

from .. import yamlio
from .errors import RepositoryNotAllowed
from .limits import RepositoryLimits
from .urls import Origin, UnsafeUrl, display, normalise, split, under

ALLOWED_VARIABLE = "GUNJ_ALLOWED_REPOSITORIES"
HOW_TO_ALLOW = (
    f"add it to {ALLOWED_VARIABLE} (Terraform: allowed_repositories) "
    "or map it to a mirror in GUNJ_REPOSITORY_MIRRORS"
)


@dataclass(frozen=True)
class Move:
    to_name: str
    to_url: str
    to_oci: str | None
    since: date
    note: str


@dataclass(frozen=True)
class KnownRepository:
    name: str
    url: str
    oci: str | None = None
    archives: str | None = None
    moves: Mapping[str, date] = field(default_factory=dict)
    moved_to: str | None = None
    note: str = ""


def _data() -> dict[str, object]:
    text = resources.files(__package__).joinpath("data", "repositories.yaml").read_text()
    loaded: dict[str, object] = yamlio.safe_load(text)
    return loaded


@functools.cache
def known_repositories() -> dict[str, KnownRepository]:
    known = {}
    entries: dict[str, dict[str, object]] = _data()["repositories"]  # type: ignore[assignment]
    for name, entry in entries.items():
        moved: dict[str, object] = entry.get("moved") or {}  # type: ignore[assignment]
        charts: dict[str, object] = moved.get("charts") or {}  # type: ignore[assignment]
        known[name] = KnownRepository(
            name=name,
            url=str(entry["url"]),
            oci=str(entry["oci"]) if entry.get("oci") else None,
            archives=str(entry["archives"]) if entry.get("archives") else None,
            moves={chart: date.fromisoformat(str(day)) for chart, day in charts.items()},
            moved_to=str(moved["to"]) if moved.get("to") else None,
            note=str(moved.get("note", "")),
        )
    return known


@functools.cache
def default_allow_list() -> tuple[str, ...]:
    """The allow-list when none is configured (Terraform's ``allowed_repositories`` default is
    the same list): the known repositories over HTTP and OCI, where their indexes keep the chart
    archives, and the hosts GitHub redirects those downloads to."""
    listed: list[str] = []
    for known in known_repositories().values():
        listed += [u for u in (known.url, known.oci, known.archives) if u]
    downloads: list[str] = _data()["downloads"]  # type: ignore[assignment]
    return tuple(normalise(u) for u in [*listed, *downloads])


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def find_known(url: str) -> KnownRepository | None:
    return next(
        (
            r
            for r in known_repositories().values()
            if _same(r.url, url) or (r.oci and _same(r.oci, url))
        ),
        None,
    )


def moved(url: str, chart: str) -> Move | None:
    """Where ``chart`` went, when the repository at ``url`` is one it moved away from."""
    repository = find_known(url)
    if not repository or not repository.moved_to or chart not in repository.moves:
        return None
    target = known_repositories()[repository.moved_to]
    return Move(
        to_name=target.name,
        to_url=target.url,
        to_oci=target.oci,
        since=repository.moves[chart],
        note=repository.note,
    )


def _pairs(text: str) -> dict[str, str]:
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        loaded = json.loads(text)
        return {str(k): str(v) for k, v in loaded.items()}
    pairs = {}
    for item in text.split(","):
        upstream, _, mirror = item.partition("=")
        if upstream.strip() and mirror.strip():
            pairs[upstream.strip()] = mirror.strip()
    return pairs


def _normalised(setting: str, url: str) -> str:
    try:
        return normalise(url)
    except UnsafeUrl as error:
        raise ValueError(f"{setting}: {display(url)} is not a repository URL: {error}") from None


@dataclass(frozen=True)
class RepositorySettings:
    mirrors: Mapping[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] | None = None
    """``None``: the default list (:func:`default_allow_list` and the mirrors' upstreams)."""
    plain_http_hosts: frozenset[str] = frozenset()
    limits: RepositoryLimits = field(default_factory=RepositoryLimits)

    def __post_init__(self) -> None:
        # Settings are compared with normalised URLs, so they are kept normalised.
        mirrors = {
            _normalised("GUNJ_REPOSITORY_MIRRORS", upstream): _normalised(
                "GUNJ_REPOSITORY_MIRRORS", mirror
            )
            for upstream, mirror in self.mirrors.items()
        }
        object.__setattr__(self, "mirrors", mirrors)
        if self.allowed is not None:
            allowed = tuple(_normalised(ALLOWED_VARIABLE, prefix) for prefix in self.allowed)
            object.__setattr__(self, "allowed", allowed)
        object.__setattr__(
            self, "plain_http_hosts", frozenset(h.lower() for h in self.plain_http_hosts)
        )

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> RepositorySettings:
        env = os.environ if env is None else env
        allowed = env.get(ALLOWED_VARIABLE, "").strip()
        hosts = env.get("GUNJ_PLAIN_HTTP_REGISTRIES", "")
        return cls(
            mirrors=_pairs(env.get("GUNJ_REPOSITORY_MIRRORS", "")),
            allowed=tuple(p.strip() for p in allowed.split(",") if p.strip()) if allowed else None,
            plain_http_hosts=frozenset(h.strip() for h in hosts.split(",") if h.strip()),
            limits=RepositoryLimits.from_environment(env),
        )

    # --- the allow-list ------------------------------------------------------------------------

    @functools.cached_property
    def allow_list(self) -> tuple[str, ...]:
        """Every allowed prefix: the configured list (or the default and the mirrors'
        upstreams), and where the mirrors serve what it allows."""
        base = self.allowed if self.allowed is not None else (*default_allow_list(), *self.mirrors)
        served: list[str] = []
        for upstream, mirror in self.mirrors.items():
            for prefix in base:
                if under(upstream, prefix):
                    served.append(mirror)  # everything the mirror serves is allowed
                elif under(prefix, upstream):
                    served.append(self.locate(prefix))  # the allowed part of it
        return tuple(dict.fromkeys([*base, *served]))

    @functools.cached_property
    def _fetch_prefixes(self) -> tuple[str, ...]:
        """The allow-list as URLs fetched: an ``oci://`` prefix covers its registry API's URLs
        (``https://host/v2/path/...``, or ``http://`` for a plain-HTTP registry)."""
        prefixes: list[str] = []
        for prefix in self.allow_list:
            origin, path, _ = split(prefix)
            if origin.scheme != "oci":
                prefixes.append(prefix)
                continue
            netloc = str(origin).partition("://")[2]
            prefixes += [normalise(f"{scheme}://{netloc}/v2{path}") for scheme in ("https", "http")]
        return tuple(prefixes)

    def _refusal(self) -> str:
        if self.allowed is None:
            return (
                "by default only the supported charts' upstream repositories and the configured "
                f"mirrors are allowed; {HOW_TO_ALLOW}"
            )
        return f"it is not under any prefix of {ALLOWED_VARIABLE}; {HOW_TO_ALLOW}"

    def check_allowed(self, url: str) -> None:
        """Refuse a repository a spec names (before mirroring) that is not on the allow-list."""
        try:
            normalised = normalise(url)
        except UnsafeUrl as error:
            raise RepositoryNotAllowed(f"repository {display(url)} is refused: {error}") from None
        if not any(under(normalised, prefix) for prefix in self.allow_list):
            raise RepositoryNotAllowed(
                f"repository {display(url)} is not on the allow-list: {self._refusal()}"
            )

    def check_fetch(
        self, url: str, *, repository: str, what: str, origin: Origin | None = None
    ) -> str:
        """``url`` normalised, if gunj may fetch it for ``repository``: https (plain http only
        for a mirror or a plain-HTTP registry) and on the allow-list, or on ``origin`` (a
        registry's own token service). Otherwise :class:`RepositoryNotAllowed`, naming the
        repository, what was to be fetched and why."""
        shown = f"repository {display(repository)}: {what} {display(url)}"
        try:
            normalised = normalise(url)
            where, _, _ = split(normalised)
        except UnsafeUrl as error:
            raise RepositoryNotAllowed(f"{shown} is refused: {error}") from None
        if where.scheme == "oci":
            raise RepositoryNotAllowed(f"{shown} is refused: oci:// is not fetched directly")
        if where.scheme == "http" and not self._plain_http_allowed(normalised):
            raise RepositoryNotAllowed(
                f"{shown} is refused: plain http is used only for a mirror "
                "(GUNJ_REPOSITORY_MIRRORS) or a registry in GUNJ_PLAIN_HTTP_REGISTRIES"
            )
        if where != origin and not any(under(normalised, p) for p in self._fetch_prefixes):
            raise RepositoryNotAllowed(f"{shown} is not on the allow-list: {self._refusal()}")
        return normalised

    def _plain_http_allowed(self, url: str) -> bool:
        if any(under(url, mirror) for mirror in self.mirrors.values()):
            return True
        return str(split(url)[0]).removeprefix("http://") in self.plain_http_hosts

    # --- mirrors and registries ----------------------------------------------------------------

    def locate(self, url: str) -> str:
        """The URL to fetch from: the longest matching mirror prefix replaced, else ``url``
        (normalised)."""
        try:
            normalised = normalise(url)
        except UnsafeUrl:
            return url.rstrip("/")
        best = max((u for u in self.mirrors if under(normalised, u)), key=len, default=None)
        if best is None:
            return normalised
        return normalise(self.mirrors[best] + normalised[len(best) :])

    def registry(self, host: str) -> str:
        """The registry API's base URL for an OCI ``host[:port]``."""
        scheme = "http" if host.lower() in self.plain_http_hosts else "https"
        return f"{scheme}://{host}/v2"

    @functools.cached_property
    def mirror_hosts(self) -> frozenset[tuple[str, int]]:
        """(host, port) of every mirror, as connections reach them: the only hosts that may be
        on a loopback, link-local or private address."""
        hosts = set()
        for mirror in self.mirrors.values():
            origin = split(mirror)[0]
            if origin.scheme == "oci":
                origin = split(self.registry(str(origin).partition("://")[2]))[0]
            hosts.add((origin.host, origin.port))
        return frozenset(hosts)

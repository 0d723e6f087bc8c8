"""Chart repositories: the ones gunj knows, the mirrors a site maps them to, and the allow-list
a spec's repository must be on.

Settings come from the environment, so the same functions run against upstream on the internet
and against an internal mirror in a cluster without it:

- ``GUNJ_REPOSITORY_MIRRORS``: ``upstream=mirror`` pairs, comma-separated (or a JSON object);
  a URL starting with ``upstream`` is fetched from ``mirror`` instead. Works for https and oci.
- ``GUNJ_ALLOWED_REPOSITORIES``: comma-separated URL prefixes; a repository outside them is
  refused (permanently). Unset: any repository is allowed.
- ``GUNJ_PLAIN_HTTP_REGISTRIES``: OCI registry hosts reached over plain HTTP (local registries).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from urllib.parse import urlparse

import yaml

from .errors import RepositoryNotAllowed


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
    moves: Mapping[str, date] = field(default_factory=dict)
    moved_to: str | None = None
    note: str = ""


@functools.cache
def known_repositories() -> dict[str, KnownRepository]:
    text = resources.files(__package__).joinpath("data", "repositories.yaml").read_text()
    known = {}
    for name, entry in yaml.safe_load(text)["repositories"].items():
        moved = entry.get("moved") or {}
        known[name] = KnownRepository(
            name=name,
            url=entry["url"],
            oci=entry.get("oci"),
            moves={
                chart: date.fromisoformat(str(day))
                for chart, day in (moved.get("charts") or {}).items()
            },
            moved_to=moved.get("to"),
            note=moved.get("note", ""),
        )
    return known


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


@dataclass(frozen=True)
class RepositorySettings:
    mirrors: Mapping[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] | None = None
    plain_http_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> RepositorySettings:
        env = os.environ if env is None else env
        allowed = env.get("GUNJ_ALLOWED_REPOSITORIES")
        hosts = env.get("GUNJ_PLAIN_HTTP_REGISTRIES", "")
        return cls(
            mirrors=_pairs(env.get("GUNJ_REPOSITORY_MIRRORS", "")),
            allowed=tuple(p.strip() for p in allowed.split(",") if p.strip()) if allowed else None,
            plain_http_hosts=frozenset(h.strip() for h in hosts.split(",") if h.strip()),
        )

    def check_allowed(self, url: str) -> None:
        """Refuse a repository outside the allow-list (checked on the URL the spec names)."""
        if self.allowed is None:
            return
        normalized = url.rstrip("/")
        if not any(
            normalized == p.rstrip("/") or normalized.startswith(p.rstrip("/") + "/")
            for p in self.allowed
        ):
            raise RepositoryNotAllowed(
                f"repository {url} is not on the allow-list (GUNJ_ALLOWED_REPOSITORIES)"
            )

    def locate(self, url: str) -> str:
        """The URL to fetch from: the longest matching mirror prefix replaced, else ``url``."""
        normalized = url.rstrip("/")
        best = ""
        for upstream in self.mirrors:
            prefix = upstream.rstrip("/")
            if (normalized == prefix or normalized.startswith(prefix + "/")) and len(prefix) > len(
                best
            ):
                best = prefix
        if not best:
            return normalized
        return self.mirrors[best].rstrip("/") + normalized[len(best) :]

    def plain_http(self, url: str) -> bool:
        parsed = urlparse(url)
        return parsed.scheme == "http" or (parsed.netloc in self.plain_http_hosts)

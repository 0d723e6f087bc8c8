"""HTTP chart repository indexes (``index.yaml``), read within limits, fetched once and
revalidated cheaply.

An index is a repository's answer, so it is read as hostile input: no more than the size limit
is downloaded, and it is parsed as a stream of YAML events (libyaml's) that keeps only what gunj
uses of each entry (version, app version, URLs, digest, deprecation, creation, Kubernetes
version, annotations). Aliases, tags other than JSON types (read as every document gunj reads,
:mod:`shared.documents`), duplicate keys, more than the entry limit (chart names and versions
together) and nesting deeper than a few levels are refused as soon as they are met, so an index
of a million entries costs the time and memory of the limit, not of the index.

A warm function instance should not download a multi-megabyte index for every event: parsed
indexes are kept in memory and on disk with the ``ETag`` and ``Last-Modified`` the server gave,
and are revalidated with ``If-None-Match`` / ``If-Modified-Since`` (a 304 costs one round trip
and no parsing). Within ``max_age`` seconds an index is reused without asking at all.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from .. import yamlio
from ..documents import KIB, DocumentError, DocumentLimits, scalar_value
from ..versions import InvalidVersion, parse_version
from .errors import ChartNotFound, InvalidIndex, RepositoryLimitExceeded
from .fetch import RepositoryFetch
from .limits import RepositoryLimits
from .urls import display


@dataclass(frozen=True)
class ChartVersion:
    """One chart version as a repository lists it."""

    name: str
    version: str
    app_version: str = ""
    urls: tuple[str, ...] = ()
    digest: str = ""
    deprecated: bool = False
    created: str = ""
    kube_version: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)

    def download_url(self, repository: str) -> str:
        """The archive's URL: relative URLs resolve against the index's, absolute ones stay as
        they are (and are checked like any other URL when fetched)."""
        if not self.urls:
            raise InvalidIndex(f"{self.name} {self.version} lists no download URL")
        return urljoin(repository.rstrip("/") + "/", self.urls[0])


@dataclass(frozen=True)
class ChartIndex:
    url: str
    charts: Mapping[str, tuple[ChartVersion, ...]]

    def versions(self, chart: str) -> tuple[ChartVersion, ...]:
        if chart not in self.charts:
            raise ChartNotFound(f"chart {chart!r} is not in the repository {self.url}")
        return self.charts[chart]


_DEPTH = 8  # an entry's values are at most a list of mappings deep (dependencies, maintainers)
# Only the per-value limits apply here: the index's size and entries have limits of their own.
_SCALAR_LIMITS = DocumentLimits(max_bytes=0, max_size=0, max_string=256 * KIB)
_KEPT = frozenset(
    {"version", "appVersion", "urls", "digest", "deprecated", "created", "kubeVersion"}
)


class _IndexReader:
    """A single pass over an index's YAML events, keeping what gunj uses."""

    def __init__(self, where: str, content: bytes, max_entries: int) -> None:
        self.where = where
        self.max_entries = max_entries
        self.entries = 0
        # libyaml parses large indexes an order of magnitude faster; only its parser is used:
        # events, never nodes.
        self._parser = yamlio.SafeLoader(content)

    def _invalid(self, problem: str, at: yaml.Event | None = None) -> InvalidIndex:
        mark = getattr(at, "start_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return InvalidIndex(f"{self.where} {problem}{where}")

    def next(self) -> yaml.Event:
        try:
            event: yaml.Event | None = self._parser.get_event()
        except yaml.YAMLError as error:
            problem = " ".join(str(error).split())[:200]  # libyaml's words and position only
            raise self._invalid(f"is not valid YAML: {problem}") from None
        if event is None:
            raise self._invalid("ends too early")
        if isinstance(event, yaml.AliasEvent):
            raise self._invalid("uses a YAML alias; an index has none", event)
        return event

    def count(self) -> None:
        self.entries += 1
        if self.entries > self.max_entries:
            raise RepositoryLimitExceeded(
                f"{self.where} has more than {self.max_entries} entries (charts and chart "
                f"versions), the limit for one index "
                f"({RepositoryLimits.variable('index_entries')})"
            )

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        """A scalar by the rules of every document gunj reads (:mod:`shared.documents`): JSON
        types only, numbers of a bounded length, timestamps as written."""
        try:
            return scalar_value(event, _SCALAR_LIMITS)
        except DocumentError as error:
            raise self._invalid(
                f"has a value that cannot be read: {error.problem}", event
            ) from None

    def value(self, event: yaml.Event, depth: int = 0) -> Any:
        """The whole value that starts with ``event``, built."""
        if depth > _DEPTH:
            raise self._invalid(f"nests values more than {_DEPTH} levels deep in an entry", event)
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event)
        if isinstance(event, yaml.SequenceStartEvent):
            items = []
            while not isinstance(item := self.next(), yaml.SequenceEndEvent):
                items.append(self.value(item, depth + 1))
            return items
        if isinstance(event, yaml.MappingStartEvent):
            built: dict[str, Any] = {}
            for key, start in self.pairs():
                built[key] = self.value(start, depth + 1)
            return built
        raise self._invalid(f"has an unexpected {type(event).__name__}")

    def skip(self, event: yaml.Event) -> None:
        """Pass over the value that starts with ``event`` without building it."""
        depth = 0 if isinstance(event, yaml.ScalarEvent) else 1
        while depth:
            inner = self.next()
            if isinstance(inner, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
            elif isinstance(inner, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1

    def pairs(self) -> Iterator[tuple[str, yaml.Event]]:
        """The keys of the mapping just started, each with the first event of its value (which
        the caller must consume, with :meth:`value` or :meth:`skip`)."""
        seen: set[str] = set()
        while not isinstance(key := self.next(), yaml.MappingEndEvent):
            if not isinstance(key, yaml.ScalarEvent):
                raise self._invalid("has a key that is not a plain value", key)
            if key.value in seen:
                raise self._invalid(f"repeats the key {key.value[:60]!r}", key)
            seen.add(key.value)
            yield key.value, self.next()

    def read(self) -> dict[str, tuple[ChartVersion, ...]]:
        try:
            return self._read()
        finally:
            self._parser.dispose()

    def _read(self) -> dict[str, tuple[ChartVersion, ...]]:
        for expected in (yaml.StreamStartEvent, yaml.DocumentStartEvent):
            if not isinstance(self.next(), expected):
                raise self._invalid("is not a chart repository index (no entries)")
        root = self.next()
        if not isinstance(root, yaml.MappingStartEvent):
            if not isinstance(root, yaml.DocumentEndEvent):
                self.skip(root)
            raise self._invalid("is not a chart repository index (no entries)")
        charts: dict[str, tuple[ChartVersion, ...]] | None = None
        for key, start in self.pairs():
            if key != "entries":
                self.skip(start)
            elif isinstance(start, yaml.MappingStartEvent):
                charts = self.entries_of()
            else:
                self.skip(start)
        if charts is None:
            raise self._invalid("is not a chart repository index (no entries)")
        if not isinstance(self.next(), yaml.DocumentEndEvent) or not isinstance(
            self.next(), yaml.StreamEndEvent
        ):
            raise self._invalid("holds more than one YAML document")
        return charts

    def entries_of(self) -> dict[str, tuple[ChartVersion, ...]]:
        charts: dict[str, tuple[ChartVersion, ...]] = {}
        for name, start in self.pairs():
            self.count()
            versions: list[ChartVersion] = []
            if isinstance(start, yaml.SequenceStartEvent):
                while not isinstance(item := self.next(), yaml.SequenceEndEvent):
                    self.count()
                    entry = self.entry(name, item)
                    if entry is not None:
                        versions.append(entry)
            elif not (isinstance(start, yaml.ScalarEvent) and self.scalar(start) is None):
                raise self._invalid(
                    f"lists the versions of {name[:60]} in something not a list", start
                )
            charts[name] = tuple(versions)
        return charts

    def entry(self, name: str, start: yaml.Event) -> ChartVersion | None:
        if not isinstance(start, yaml.MappingStartEvent):
            raise self._invalid(f"has an entry of {name[:60]} that is not a mapping", start)
        fields: dict[str, Any] = {}
        for key, value in self.pairs():
            if key in _KEPT or key == "annotations":
                fields[key] = self.value(value)
            else:
                self.skip(value)
        if fields.get("version") is None:
            raise self._invalid(f"has an entry of {name[:60]} with no version")
        version = str(fields["version"])
        try:
            parse_version(version)
        except InvalidVersion:
            return None  # Helm skips versions it cannot parse as well
        urls = fields.get("urls") or []
        annotations = fields.get("annotations") or {}
        if not isinstance(urls, list) or not isinstance(annotations, dict):
            raise self._invalid(f"has an entry of {name[:60]} {version[:40]} that is malformed")
        return ChartVersion(
            name=name,
            version=version,
            app_version=str(fields.get("appVersion") or ""),
            urls=tuple(str(u) for u in urls if isinstance(u, str)),
            digest=str(fields.get("digest") or ""),
            deprecated=fields.get("deprecated") is True,
            created=str(fields.get("created") or ""),
            kube_version=str(fields.get("kubeVersion") or ""),
            annotations={str(k): str(v) for k, v in annotations.items()},
        )


def parse_index(
    url: str,
    content: bytes,
    *,
    max_entries: int = RepositoryLimits.index_entries,
    named: str | None = None,
) -> ChartIndex:
    """The index of the repository at ``url`` from ``content``; messages name it ``named``
    (``url/index.yaml`` by default)."""
    reader = _IndexReader(named or f"{url}/index.yaml", content, max_entries)
    return ChartIndex(url, reader.read())


@dataclass
class _Cached:
    index: ChartIndex
    etag: str | None
    last_modified: str | None
    checked: float


class IndexCache:
    """Indexes by repository URL, in memory and under ``folder`` on disk. Each URL has a lock of
    its own: a slow repository holds up only the operations that read it."""

    def __init__(self, folder: Path | None, max_age: float = 30.0) -> None:
        self.folder = folder
        self.max_age = max_age
        self._memory: dict[str, _Cached] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.downloads = 0
        self.revalidations = 0

    def _paths(self, url: str) -> tuple[Path, Path] | None:
        if self.folder is None:
            return None
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        return self.folder / f"{key}.json", self.folder / f"{key}.meta.json"

    def _from_disk(self, url: str) -> _Cached | None:
        paths = self._paths(url)
        if not paths or not paths[0].is_file() or not paths[1].is_file():
            return None
        try:
            meta = json.loads(paths[1].read_text())
            raw = json.loads(paths[0].read_text())
            charts = {
                name: tuple(ChartVersion(**{**v, "urls": tuple(v["urls"])}) for v in versions)
                for name, versions in raw.items()
            }
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return _Cached(ChartIndex(url, charts), meta.get("etag"), meta.get("last_modified"), 0.0)

    def _to_disk(self, url: str, cached: _Cached) -> None:
        paths = self._paths(url)
        if not paths:
            return
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        raw: dict[str, Any] = {
            name: [asdict(v) for v in versions] for name, versions in cached.index.charts.items()
        }
        for path, content in (
            (paths[0], raw),
            (paths[1], {"etag": cached.etag, "last_modified": cached.last_modified}),
        ):
            temporary = path.with_suffix(f".{threading.get_ident()}.tmp")
            temporary.write_text(json.dumps(content))
            temporary.replace(path)

    def _lock_for(self, url: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(url, threading.Lock())

    def get(self, fetch: RepositoryFetch) -> ChartIndex:
        """The index of the repository ``fetch`` reads (at its location)."""
        url = fetch.location.rstrip("/")
        with self._lock_for(url):
            cached = self._memory.get(url) or self._from_disk(url)
            now = time.monotonic()
            if cached and now - cached.checked < self.max_age:
                return cached.index
            headers = {}
            if cached and cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached and cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
            response = fetch.get(
                f"{url}/index.yaml",
                what="index",
                limit=fetch.limits.index_bytes,
                limit_name="index_bytes",
                headers=headers,
                authorization=fetch.basic(),
                allow=frozenset({200, 304, 404}),
            )
            if response.status == 404:
                raise ChartNotFound(
                    f"repository {display(fetch.repository)}: {display(url)} has no index.yaml: "
                    "not a chart repository"
                )
            if response.status == 304 and cached:
                cached.checked = now
                with self._lock:
                    self.revalidations += 1
                    self._memory[url] = cached
                return cached.index
            if response.status == 304:
                raise InvalidIndex(f"{url}/index.yaml: 304 Not Modified to a request without a tag")
            index = parse_index(
                url,
                response.body,
                max_entries=fetch.limits.index_entries,
                named=f"repository {display(fetch.repository)}: index {display(url)}/index.yaml",
            )
            fresh = _Cached(
                index,
                response.headers.get("etag"),
                response.headers.get("last-modified"),
                time.monotonic(),
            )
            with self._lock:
                self.downloads += 1
                self._memory[url] = fresh
            self._to_disk(url, fresh)
            return fresh.index

"""HTTP chart repository indexes (``index.yaml``), fetched once and revalidated cheaply.

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from ..versions import InvalidVersion, parse_version
from .errors import ChartNotFound, InvalidIndex
from .fetch import Credentials, get

try:  # libyaml parses large indexes an order of magnitude faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


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


def parse_index(url: str, content: bytes) -> ChartIndex:
    try:
        document = yaml.load(content, Loader=_Loader)
    except yaml.YAMLError as error:
        raise InvalidIndex(f"{url}/index.yaml is not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("entries"), dict):
        raise InvalidIndex(f"{url}/index.yaml is not a chart repository index (no entries)")
    charts: dict[str, tuple[ChartVersion, ...]] = {}
    for name, entries in document["entries"].items():
        versions = []
        for entry in entries or []:
            if not isinstance(entry, dict) or "version" not in entry:
                raise InvalidIndex(f"{url}/index.yaml: an entry of {name} has no version")
            try:
                parse_version(str(entry["version"]))
            except InvalidVersion:
                continue  # Helm skips versions it cannot parse as well
            versions.append(
                ChartVersion(
                    name=str(name),
                    version=str(entry["version"]),
                    app_version=str(entry.get("appVersion") or ""),
                    urls=tuple(entry.get("urls") or ()),
                    digest=str(entry.get("digest") or ""),
                    deprecated=bool(entry.get("deprecated", False)),
                    created=str(entry.get("created") or ""),
                    kube_version=str(entry.get("kubeVersion") or ""),
                    annotations={
                        str(k): str(v) for k, v in (entry.get("annotations") or {}).items()
                    },
                )
            )
        charts[str(name)] = tuple(versions)
    return ChartIndex(url, charts)


@dataclass
class _Cached:
    index: ChartIndex
    etag: str | None
    last_modified: str | None
    checked: float


class IndexCache:
    """Indexes by repository URL, in memory and under ``folder`` on disk."""

    def __init__(self, folder: Path | None, max_age: float = 30.0) -> None:
        self.folder = folder
        self.max_age = max_age
        self._memory: dict[str, _Cached] = {}
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
        except (OSError, ValueError):
            return None
        charts = {
            name: tuple(ChartVersion(**{**v, "urls": tuple(v["urls"])}) for v in versions)
            for name, versions in raw.items()
        }
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
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(content))
            temporary.replace(path)

    def get(self, url: str, credentials: Credentials | None = None) -> ChartIndex:
        url = url.rstrip("/")
        with self._lock:
            cached = self._memory.get(url) or self._from_disk(url)
            now = time.monotonic()
            if cached and now - cached.checked < self.max_age:
                return cached.index
            headers = {}
            if cached and cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached and cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
            response = get(
                f"{url}/index.yaml",
                headers=headers,
                credentials=credentials,
                allow=frozenset({200, 304, 404}),
            )
            if response.status == 404:
                raise ChartNotFound(f"{url} has no index.yaml: not a chart repository")
            if response.status == 304 and cached:
                self.revalidations += 1
                cached.checked = now
                self._memory[url] = cached
                return cached.index
            self.downloads += 1
            fresh = _Cached(
                parse_index(url, response.body),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
                now,
            )
            self._memory[url] = fresh
            self._to_disk(url, fresh)
            return fresh.index

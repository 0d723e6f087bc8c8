"""The chart versions a check run sees: each repository index or OCI tag list fetched once per
run, however many platforms use it (a run revalidates with ETag / If-Modified-Since where the
server supports it, so an unchanged index costs one round trip and no download). A repository
that fails is remembered as failed for the rest of the run, and reported for every platform
that uses it, while the others are still checked."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GunjError
from ..helm.charts import ChartLibrary, ChartSource
from ..helm.index import ChartVersion
from ..helm.repositories import RepositorySettings


@dataclass
class RunCatalog:
    library: ChartLibrary
    _versions: dict[str, tuple[ChartVersion, ...]] = field(default_factory=dict)
    _failures: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    fetches: Counter[str] = field(default_factory=Counter)
    """Fetches per repository (HTTP) or chart (OCI) location in this run."""

    @classmethod
    def for_run(cls, settings: RepositorySettings, cache: Path) -> RunCatalog:
        # max_age 0: each run asks the repository once (conditionally); the run itself
        # remembers the answer.
        return cls(ChartLibrary(settings, cache, index_max_age=0.0))

    def _key(self, source: ChartSource) -> str:
        where = self.library.location(source)
        return f"{where}/{source.chart}" if source.is_oci else where

    def versions(self, source: ChartSource) -> tuple[ChartVersion, ...]:
        """The chart's versions; the run's one fetch of its repository (or its failure)."""
        key = self._key(source)
        with self._lock:
            if key in self._failures:
                raise GunjError(self._failures[key])
            if source.is_oci and key in self._versions:
                return self._versions[key]
            if not source.is_oci and key in self._versions:
                return self._chart_of(key, source)
            self.fetches[key] += 1
            try:
                if source.is_oci:
                    self._versions[key] = self.library.versions(source)
                    return self._versions[key]
                index = self.library.indexes.get(key, source.credentials)
            except GunjError as error:
                self._failures[key] = f"repository {source.repository} failed: {error}"
                raise GunjError(self._failures[key]) from None
            for name, entries in index.charts.items():
                self._versions[f"{key}#{name}"] = entries
            self._versions[key] = ()
            return self._chart_of(key, source)

    def _chart_of(self, key: str, source: ChartSource) -> tuple[ChartVersion, ...]:
        found = self._versions.get(f"{key}#{source.chart}")
        if found is None:
            raise GunjError(f"chart {source.chart} is not in {source.repository}")
        return found

    def failures(self) -> dict[str, str]:
        return dict(self._failures)

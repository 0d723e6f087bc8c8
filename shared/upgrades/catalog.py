"""The chart versions a check run sees: each repository index or OCI tag list fetched once per
run, however many platforms use it (a run revalidates with ETag / If-Modified-Since where the
server supports it, so an unchanged index costs one round trip and no download). A repository
that fails is remembered as failed for the rest of the run, and reported for every platform
that uses it, while the others are still checked.

A repository is one view per set of credentials: a private repository may list more charts to
one reader than to another, or nothing at all without credentials, so what one platform's
credentials (or their absence) saw or failed on is never what another's sees. A view fetched
with credentials is reported under its location with "(with credentials)", never with what
they are."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GunjError
from ..helm.charts import ChartLibrary, ChartSource
from ..helm.fetch import Credentials
from ..helm.index import ChartVersion
from ..helm.repositories import RepositorySettings

# A repository (HTTP) or chart (OCI) location, and the credentials it is read with. The
# credentials stay in memory, as the key's identity; reports name the view by its label.
View = tuple[str, Credentials | None]


@dataclass
class RunCatalog:
    library: ChartLibrary
    _charts: dict[View, dict[str, tuple[ChartVersion, ...]]] = field(default_factory=dict)
    """HTTP: each view's index, chart name -> versions."""
    _tags: dict[View, tuple[ChartVersion, ...]] = field(default_factory=dict)
    """OCI: each view's chart versions."""
    _failures: dict[View, str] = field(default_factory=dict)
    _labels: dict[View, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    fetches: Counter[str] = field(default_factory=Counter)
    """Fetches per repository (HTTP) or chart (OCI) location in this run, by the view's label."""

    @classmethod
    def for_run(cls, settings: RepositorySettings, cache: Path) -> RunCatalog:
        # max_age 0: each run asks the repository once (conditionally); the run itself
        # remembers the answer.
        return cls(ChartLibrary(settings, cache, index_max_age=0.0))

    def _view(self, source: ChartSource) -> View:
        where = self.library.location(source)
        view = (f"{where}/{source.chart}" if source.is_oci else where, source.credentials)
        if view not in self._labels:
            location, credentials = view
            if credentials is None:
                self._labels[view] = location
            else:
                # Numbered only when one run reads a location with several sets of credentials.
                others = sum(
                    1 for known, used in self._labels if known == location and used is not None
                )
                number = f" #{others + 1}" if others else ""
                self._labels[view] = f"{location} (with credentials{number})"
        return view

    def versions(self, source: ChartSource) -> tuple[ChartVersion, ...]:
        """The chart's versions; the run's one fetch of its repository (or its failure), as
        ``source``'s credentials see it."""
        with self._lock:
            view = self._view(source)
            if view in self._failures:
                raise GunjError(self._failures[view])
            if source.is_oci and view in self._tags:
                return self._tags[view]
            if not source.is_oci and view in self._charts:
                return self._chart_of(view, source)
            self.fetches[self._labels[view]] += 1
            try:
                if source.is_oci:
                    self._tags[view] = self.library.versions(source)
                    return self._tags[view]
                index = self.library.index(source)
            except GunjError as error:
                self._failures[view] = f"repository {source.repository} failed: {error}"
                raise GunjError(self._failures[view]) from None
            self._charts[view] = dict(index.charts)
            return self._chart_of(view, source)

    def _chart_of(self, view: View, source: ChartSource) -> tuple[ChartVersion, ...]:
        found = self._charts[view].get(source.chart)
        if found is None:
            raise GunjError(f"chart {source.chart} is not in {source.repository}")
        return found

    def failures(self) -> dict[str, str]:
        """Why each view that failed did, by its label (as ``fetches`` counts them)."""
        return {self._labels[view]: reason for view, reason in self._failures.items()}

"""Which chart version a spec asks for, resolved once and reused for a bounded time.

An exact version (``29.27.0``) needs no repository at all. A range (``~29.27``) or an app version
is resolved against the repository's index or tag list, and the answer is kept on disk with the
time it was found: within ``recheck`` seconds the same question is answered from there, without
a request, so a reconcile of an unchanged spec costs no index download. The key holds everything
the answer depends on, quarantined versions included.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..helm.charts import ChartLibrary, ChartSource
from ..helm.selection import select_version
from ..versions import InvalidVersion, VersionConstraint, normalize_version


@dataclass(frozen=True)
class Resolved:
    version: str
    app_version: str
    """Empty when the version was taken as written, without asking the repository."""


class VersionResolver:
    def __init__(self, library: ChartLibrary, folder: Path, recheck: float) -> None:
        self.library = library
        self.path = folder / "resolutions.json"
        self.recheck = recheck
        self._lock = threading.Lock()
        self.lookups = 0
        """Resolutions that asked the repository (for benchmarks and tests)."""

    def resolve(
        self,
        source: ChartSource,
        constraint: str,
        app_version: str | None,
        exclude: Iterable[str] = (),
    ) -> Resolved:
        excluded = sorted(set(exclude))
        if app_version is None:
            # An exact version is what the spec asks for, quarantined or not: the caller holds
            # a quarantined one and says so, rather than choosing another.
            exact = _exact(constraint)
            if exact is not None:
                return Resolved(exact, "")
        key = hashlib.sha256(
            json.dumps(
                [source.repository, source.chart, constraint, app_version, excluded]
            ).encode()
        ).hexdigest()[:32]
        with self._lock:
            known = self._load()
            entry = known.get(key)
            if entry and time.time() - float(str(entry["at"])) < self.recheck:
                return Resolved(str(entry["version"]), str(entry["app_version"]))
            self.lookups += 1
            chosen = select_version(
                self.library.versions(source),
                constraint=constraint,
                app_version=app_version,
                exclude=excluded,
            )
            known[key] = {
                "version": chosen.version,
                "app_version": chosen.app_version,
                "at": time.time(),
            }
            self._save(known)
            return Resolved(chosen.version, chosen.app_version)

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            loaded = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _save(self, known: dict[str, dict[str, object]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{id(self)}.tmp")
        temporary.write_text(json.dumps(known))
        temporary.replace(self.path)


def _exact(constraint: str) -> str | None:
    try:
        exact = VersionConstraint.parse(constraint).exact
    except InvalidVersion:
        return None
    if exact is None:
        return None
    # Keep the version as the repository spells it (a leading v is part of some charts' tags).
    written = constraint.strip().lstrip("=").strip()
    return written if normalize_version(written) == str(exact) else str(exact)

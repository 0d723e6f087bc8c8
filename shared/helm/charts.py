"""Charts: list a chart's versions, pick one, and pull it into a content-addressed cache.

A spec names its repository as it is known upstream; the library applies the allow-list to that
name, then fetches from the mirror the settings map it to. Each operation (listing versions,
pulling a chart) is one :class:`~.fetch.RepositoryFetch`: every URL it fetches is checked again
(the index's chart URLs resolve against the index's URL and pass the same checks), the
repository's credentials go only to its own origin, and sizes and the total time are bounded.
Archives are stored once by their SHA-256 (``charts/sha256/<digest>.tgz``) and found again by
repository, chart and version, so reconciles on a warm instance reuse them. Helm then installs
from the local archive: the engine controls the credentials and never hands them to a Helm
process.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from .binary import HelmBinary
from .errors import ChartNotFound, HelmError, InvalidIndex
from .fetch import Credentials, RepositoryFetch
from .index import ChartIndex, ChartVersion, IndexCache
from .models import ChartReference
from .oci import OciClient, OciReference
from .repositories import RepositorySettings


@dataclass(frozen=True)
class ChartSource:
    """A chart in a repository, as a spec names it (the upstream URL, before mirroring)."""

    repository: str
    chart: str
    credentials: Credentials | None = None

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")

    def describe(self) -> str:
        return f"{self.repository.rstrip('/')}/{self.chart}"


@dataclass(frozen=True)
class PulledChart:
    source: ChartSource
    version: str
    app_version: str
    path: Path
    digest: str
    verified: bool

    def reference(self) -> ChartReference:
        """For Helm: install or template from the local archive."""
        return ChartReference(name=self.source.chart, version=self.version, path=self.path)


class ProvenanceError(HelmError):
    """The chart's provenance does not verify against the keyring (or is missing)."""


class ChartLibrary:
    def __init__(
        self,
        settings: RepositorySettings,
        cache_root: Path,
        *,
        keyring: Path | None = None,
        helm: HelmBinary | None = None,
        index_max_age: float = 30.0,
    ) -> None:
        self.settings = settings
        self.store = cache_root / "charts"
        self.keyring = keyring
        self.helm = helm
        self.indexes = IndexCache(cache_root / "indexes", max_age=index_max_age)
        self.oci = OciClient(cache_folder=cache_root / "oci")
        self._lock = threading.Lock()
        if keyring is not None and helm is None:
            raise ValueError("verifying provenance needs the Helm binary")

    # --- where ---------------------------------------------------------------------------------

    def location(self, source: ChartSource) -> str:
        """The URL charts of ``source`` are fetched from (allow-list checked, mirror applied)."""
        self.settings.check_allowed(source.repository)
        return self.settings.locate(source.repository)

    def _open(self, source: ChartSource) -> tuple[RepositoryFetch, OciReference | None]:
        """One operation's fetch for ``source`` (and its OCI reference, for a registry)."""
        where = self.location(source)
        if source.is_oci:
            reference = OciReference.parse(f"{where}/{source.chart}")
            location = self.settings.registry(reference.host)
        else:
            reference, location = None, where
        fetch = RepositoryFetch(self.settings, source.repository, location, source.credentials)
        return fetch, reference

    # --- versions ------------------------------------------------------------------------------

    def index(self, source: ChartSource) -> ChartIndex:
        """The index of an HTTP repository."""
        fetch, _ = self._open(source)
        with fetch:
            return self.indexes.get(fetch)

    def versions(self, source: ChartSource) -> tuple[ChartVersion, ...]:
        fetch, reference = self._open(source)
        with fetch:
            return self._versions(fetch, reference, source)

    def _versions(
        self, fetch: RepositoryFetch, reference: OciReference | None, source: ChartSource
    ) -> tuple[ChartVersion, ...]:
        if reference is not None:
            return self.oci.versions(fetch, reference)
        return self.indexes.get(fetch).versions(source.chart)

    def version(self, source: ChartSource, version: str) -> ChartVersion:
        fetch, reference = self._open(source)
        with fetch:
            return self._version(fetch, reference, source, version)

    def _version(
        self,
        fetch: RepositoryFetch,
        reference: OciReference | None,
        source: ChartSource,
        version: str,
    ) -> ChartVersion:
        found = self._versions(fetch, reference, source)
        entry = next((v for v in found if v.version == version), None)
        if entry is None:
            raise ChartNotFound(
                f"chart {source.chart} version {version} is not in {source.repository}"
            )
        return entry

    # --- pulling -------------------------------------------------------------------------------

    def _ref_path(self, source: ChartSource, version: str) -> Path:
        key = hashlib.sha256(f"{self.location(source)}|{source.chart}|{version}".encode())
        return self.store / "refs" / key.hexdigest()[:40]

    def _blob_path(self, digest: str) -> Path:
        return self.store / "sha256" / f"{digest}.tgz"

    def cached(self, source: ChartSource, version: str) -> Path | None:
        ref = self._ref_path(source, version)
        if not ref.is_file():
            return None
        blob = self._blob_path(ref.read_text().strip())
        return blob if blob.is_file() else None

    def pull(self, source: ChartSource, version: str, *, verify: bool = False) -> PulledChart:
        """The chart archive of ``version``, from the cache or the repository. The download runs
        outside the library's lock: a slow repository holds up only its own pulls."""
        fetch, reference = self._open(source)
        with fetch:
            entry = self._version(fetch, reference, source, version)
            path = self.cached(source, version)
            if path is not None and entry.digest and path.stem != entry.digest:
                path = None  # republished under the same version: the repository's is another
            provenance: bytes | None = None
            if path is None or verify:
                content, provenance = self._download(
                    fetch, reference, entry, want_provenance=verify
                )
                digest = hashlib.sha256(content).hexdigest()
                if entry.digest and entry.digest != digest:
                    raise InvalidIndex(
                        f"{source.describe()} {version}: the archive's digest "
                        f"does not match the repository's ({entry.digest[:12]}…)"
                    )
                path = self._store(source, version, content, digest)
        verified = False
        if verify:
            self._verify(source, version, path, provenance)
            verified = True
        return PulledChart(source, version, entry.app_version, path, path.stem, verified)

    def _store(self, source: ChartSource, version: str, content: bytes, digest: str) -> Path:
        with self._lock:
            path = self._blob_path(digest)
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_suffix(f".{threading.get_ident()}.part")
                temporary.write_bytes(content)
                temporary.replace(path)
            ref = self._ref_path(source, version)
            ref.parent.mkdir(parents=True, exist_ok=True)
            ref.write_text(digest)
        return path

    def _download(
        self,
        fetch: RepositoryFetch,
        reference: OciReference | None,
        entry: ChartVersion,
        *,
        want_provenance: bool,
    ) -> tuple[bytes, bytes | None]:
        if reference is not None:
            chart, signature = self.oci.pull(fetch, reference, entry.version)
            return chart.content, signature.content if signature else None
        # Relative URLs resolve against the index's URL; absolute ones are checked like any
        # other, and get the credentials only on the repository's own origin.
        url = entry.download_url(fetch.location)
        limits = fetch.limits
        content = fetch.get(
            url,
            what=f"chart archive of {entry.name} {entry.version}",
            limit=limits.archive_bytes,
            limit_name="archive_bytes",
            authorization=fetch.basic(),
        ).body
        provenance = None
        if want_provenance:
            answer = fetch.get(
                f"{url}.prov",
                what=f"provenance of {entry.name} {entry.version}",
                limit=limits.document_bytes,
                limit_name="document_bytes",
                authorization=fetch.basic(),
                allow=frozenset({200, 404}),
            )
            provenance = answer.body if answer.status == 200 else None
        return content, provenance

    def _verify(
        self, source: ChartSource, version: str, archive: Path, provenance: bytes | None
    ) -> None:
        if provenance is None:
            raise ProvenanceError(f"{source.describe()} {version} has no provenance file to verify")
        assert self.helm is not None and self.keyring is not None  # noqa: S101 - __init__
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / f"{source.chart}-{version}.tgz"
            local.write_bytes(archive.read_bytes())
            local.with_name(local.name + ".prov").write_bytes(provenance)
            result = subprocess.run(
                [str(self.helm.path), "verify", str(local), "--keyring", str(self.keyring)],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
        if result.returncode != 0:
            reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
            raise ProvenanceError(f"{source.describe()} {version} does not verify: {reason}")

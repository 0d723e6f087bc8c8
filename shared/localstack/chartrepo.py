"""Build the local chart repositories from the project's test chart sources.

One chart source yields several versions: the catalogue (``tests/charts/catalogue.yaml``) names
each version, its app version, its repository, any behaviour it carries (a failing Helm test, a
failing install) and whether it ships its Helm tests: a version without them is packaged with
``tests/`` in its ``.helmignore``, which drops ``templates/tests/`` as it does from upstream's
published grafana and loki charts. Each version is packaged with the real Helm into
``<root>/<repository>/`` and indexed with relative URLs, so the same files serve on any port.
A build is skipped when the sources have not changed since the last one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from .tools import ProvisionError

Behaviour = Literal["test-fails", "install-fails", "probe-fails"]
BEHAVIOUR_ANNOTATIONS: dict[str, dict[str, str]] = {
    "test-fails": {"gunj.io/test-result": "fail"},
    "install-fails": {"gunj.io/install-result": "fail"},
    # Nothing in the chart: the local cluster fails gunj's probe pods of this version.
    "probe-fails": {},
}
DIGEST_FILE = ".source-digest"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogueVersion(_Strict):
    version: str
    appVersion: str  # noqa: N815 - the Chart.yaml key
    behaviour: Behaviour | None = None
    deprecated: bool = False
    tests: bool = True


class CatalogueChart(_Strict):
    name: str
    repository: str
    versions: list[CatalogueVersion]


class CatalogueRepository(_Strict):
    oci: str | None


class Catalogue(_Strict):
    repositories: dict[str, CatalogueRepository]
    charts: list[CatalogueChart]

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        return cls.model_validate(yaml.safe_load(path.read_text()))


@dataclass(frozen=True)
class PackagedChart:
    repository: str
    name: str
    version: str
    app_version: str
    behaviour: str | None
    path: Path
    tests: bool = True
    """Whether the packaged chart carries Helm tests."""


def default_sources() -> Path:
    """The test charts of the checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "tests" / "charts"


def sources_digest(sources: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in sources.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(sources)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _helm(helm: Path, *args: str) -> None:
    result = subprocess.run([str(helm), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProvisionError(f"helm {' '.join(args)} failed: {result.stderr.strip()}")


def _package_version(
    helm: Path,
    sources: Path,
    chart: CatalogueChart,
    *,
    release: CatalogueVersion,
    destination: Path,
    scratch: Path,
) -> Path:
    work = scratch / f"{chart.repository}-{chart.name}-{release.version}"
    shutil.copytree(sources / chart.name, work / chart.name)
    shutil.copytree(sources / "common", work / "common")
    chart_file = work / chart.name / "Chart.yaml"
    metadata = yaml.safe_load(chart_file.read_text())
    metadata["version"] = release.version
    metadata["appVersion"] = release.appVersion
    if release.deprecated:
        metadata["deprecated"] = True
    if release.behaviour and BEHAVIOUR_ANNOTATIONS[release.behaviour]:
        metadata["annotations"] = BEHAVIOUR_ANNOTATIONS[release.behaviour]
    chart_file.write_text(yaml.safe_dump(metadata, sort_keys=False))
    if not release.tests:
        ignore = work / chart.name / ".helmignore"
        existing = ignore.read_text() if ignore.is_file() else ""
        ignore.write_text(f"{existing}tests/\n")
    _helm(helm, "dependency", "build", str(work / chart.name))
    _helm(helm, "package", str(work / chart.name), "--destination", str(destination))
    return destination / f"{chart.name}-{release.version}.tgz"


def packaged(catalogue: Catalogue, root: Path) -> list[PackagedChart]:
    return [
        PackagedChart(
            chart.repository,
            chart.name,
            release.version,
            release.appVersion,
            release.behaviour,
            root / chart.repository / f"{chart.name}-{release.version}.tgz",
            release.tests,
        )
        for chart in catalogue.charts
        for release in chart.versions
    ]


def build(helm: Path, root: Path, sources: Path | None = None) -> list[PackagedChart]:
    """Package every catalogued version into ``root``; reuse a build of the same sources."""
    sources = sources or default_sources()
    catalogue = Catalogue.load(sources / "catalogue.yaml")
    digest = sources_digest(sources)
    charts = packaged(catalogue, root)
    marker = root / DIGEST_FILE
    if marker.is_file() and marker.read_text() == digest and all(c.path.is_file() for c in charts):
        return charts
    if root.exists():
        shutil.rmtree(root)
    with tempfile.TemporaryDirectory() as scratch:
        for chart in catalogue.charts:
            destination = root / chart.repository
            destination.mkdir(parents=True, exist_ok=True)
            for release in chart.versions:
                _package_version(
                    helm,
                    sources,
                    chart,
                    release=release,
                    destination=destination,
                    scratch=Path(scratch),
                )
    for repository in catalogue.repositories:
        _helm(helm, "repo", "index", str(root / repository))
    marker.write_text(digest)
    return charts

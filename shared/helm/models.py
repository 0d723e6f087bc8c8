"""What Helm reports about releases, parsed from its JSON output (one shape for Helm 3 and 4)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _empty_is_none(value: Any) -> Any:
    # Helm 3 writes "" for times that never happened; Helm 4 leaves them out.
    return None if value in ("", "0001-01-01T00:00:00Z") else value


OptionalTime = Annotated[datetime | None, BeforeValidator(_empty_is_none)]


class ReleaseStatus(StrEnum):
    UNKNOWN = "unknown"
    DEPLOYED = "deployed"
    UNINSTALLED = "uninstalled"
    SUPERSEDED = "superseded"
    FAILED = "failed"
    UNINSTALLING = "uninstalling"
    PENDING_INSTALL = "pending-install"
    PENDING_UPGRADE = "pending-upgrade"
    PENDING_ROLLBACK = "pending-rollback"

    @property
    def pending(self) -> bool:
        return self.value.startswith("pending-")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Revision(_Model):
    """One entry of ``helm history``."""

    revision: int
    updated: datetime
    status: ReleaseStatus
    chart: str
    app_version: str = ""
    description: str = ""

    @property
    def chart_version(self) -> str:
        """The version part of ``<name>-<version>`` (chart names may contain dashes)."""
        name, _, version = self.chart.rpartition("-")
        while name and not version[:1].isdigit():
            name, _, head = name.rpartition("-")
            version = f"{head}-{version}"
        return version


class HookRun(_Model):
    started_at: OptionalTime = None
    completed_at: OptionalTime = None
    phase: str = ""


class Hook(_Model):
    name: str
    kind: str
    events: list[str] = Field(default_factory=list)
    last_run: HookRun = Field(default_factory=HookRun)
    weight: int = 0
    delete_policies: list[str] = Field(default_factory=list)


class ReleaseInfo(_Model):
    status: ReleaseStatus
    description: str = ""
    first_deployed: OptionalTime = None
    last_deployed: OptionalTime = None


class Release(_Model):
    """``helm status -o json``."""

    name: str
    namespace: str
    version: int = Field(description="the revision")
    info: ReleaseInfo
    hooks: list[Hook] = Field(default_factory=list)
    manifest: str = Field("", repr=False)

    @property
    def revision(self) -> int:
        return self.version

    @property
    def test_hooks(self) -> list[Hook]:
        return [
            hook for hook in self.hooks if "test" in hook.events or "test-success" in hook.events
        ]


class ReleaseMetadata(_Model):
    """``helm get metadata -o json``: chart and app version without decoding the manifest."""

    name: str
    chart: str
    version: str
    app_version: str = Field("", alias="appVersion")
    namespace: str
    revision: int
    status: ReleaseStatus
    deployed_at: OptionalTime = Field(None, alias="deployedAt")
    annotations: dict[str, str] = Field(default_factory=dict)


class ListedRelease(_Model):
    """One entry of ``helm list -o json``."""

    name: str
    namespace: str
    revision: int
    status: ReleaseStatus
    chart: str
    app_version: str = ""


class ChartReference(_Model):
    """Where a chart comes from: a repository URL (https or oci) and a name, or a local path."""

    name: str
    repository: str | None = None
    path: Path | None = None
    version: str | None = None

    @property
    def is_oci(self) -> bool:
        return bool(self.repository and self.repository.startswith("oci://"))

    def describe(self) -> str:
        where = str(self.path) if self.path else f"{self.repository}/{self.name}"
        return f"{where}@{self.version}" if self.version else where

    def as_arguments(self) -> list[str]:
        """The chart argument and its locating flags for install, upgrade, template, pull."""
        if self.path is not None:
            arguments = [str(self.path)]
        elif self.is_oci:
            assert self.repository is not None  # noqa: S101 - implied by is_oci
            arguments = [f"{self.repository.rstrip('/')}/{self.name}"]
        elif self.repository:
            arguments = [self.name, "--repo", self.repository]
        else:
            raise ValueError(f"chart {self.name}: give a repository or a path")
        if self.version and self.path is None:
            arguments += ["--version", self.version]
        return arguments


class TestOutcome(_Model):
    """The result of one Helm test pod."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    phase: str
    started_at: OptionalTime = None
    completed_at: OptionalTime = None
    pod: bool = True
    """False for an outcome Helm reported without a pod (e.g. it timed out)."""

    @property
    def passed(self) -> bool:
        return self.phase == "Succeeded"


class TestRun(_Model):
    __test__ = False  # not a pytest test class, despite its name

    release: str
    revision: int
    outcomes: list[TestOutcome]
    message: str = ""

    @property
    def passed(self) -> bool:
        """Every test passed, and there was one at least: an empty run proves nothing."""
        return bool(self.outcomes) and all(outcome.passed for outcome in self.outcomes)

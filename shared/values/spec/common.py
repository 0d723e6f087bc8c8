"""What every component of a platform has: versions, chart source, scheduling, resources,
tests, upgrade and remediation policy, values overrides."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..types import (
    AppVersion,
    ChartVersion,
    DataKey,
    Duration,
    GoogleSecretURI,
    JsonPointer,
    LabelMap,
    ObjectName,
    Quantity,
    RepositoryURL,
    Timeout,
    ValuesPath,
)
from .base import SpecModel

Mode = Literal["helm", "native"]


class SecretKeyRef(SpecModel):
    """One key of a Secret in the platform's namespace."""

    name: ObjectName
    key: DataKey


class SecretRef(SpecModel):
    """A whole Secret in the platform's namespace (its keys become environment variables)."""

    name: ObjectName


class ChartSource(SpecModel):
    """Where the component's chart comes from, instead of its upstream repository."""

    repository: RepositoryURL | None = None
    name: ObjectName | None = None
    credentials_secret_ref: SecretRef | None = Field(
        None, description="Secret with keys username and password for the repository"
    )


class ResourceList(SpecModel):
    cpu: Quantity | None = None
    memory: Quantity | None = None
    ephemeral_storage: Quantity | None = Field(None, alias="ephemeral-storage")


class Resources(SpecModel):
    requests: ResourceList | None = None
    limits: ResourceList | None = None


class Volume(SpecModel):
    """A persistent volume for the component's data."""

    enabled: bool = True
    size: Quantity | None = None
    storage_class_name: ObjectName | None = None


class Toleration(SpecModel):
    key: str | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None


class ValuesFrom(SpecModel):
    """Helm values read at reconcile time from a Secret or ConfigMap of the platform's
    namespace (``name``, ``key``) or a Google Secret Manager version (``uri``): the content is
    YAML merged at the root, or, with ``targetPath``, a single value placed at that path."""

    kind: Literal["Secret", "ConfigMap", "GoogleSecretManager"]
    name: ObjectName | None = None
    key: DataKey = "values.yaml"
    uri: GoogleSecretURI | None = Field(
        None, description="gcpsm://projects/P/secrets/S/versions/V (kind GoogleSecretManager)"
    )
    target_path: ValuesPath | None = None
    optional: bool = False

    @model_validator(mode="after")
    def _source_named(self) -> Self:
        if self.kind == "GoogleSecretManager" and (self.uri is None or self.name is not None):
            raise PydanticCustomError(
                "values_from_source", "kind GoogleSecretManager takes uri (and no name)"
            )
        if self.kind != "GoogleSecretManager" and (self.name is None or self.uri is not None):
            raise PydanticCustomError(
                "values_from_source", f"kind {self.kind} takes name (and no uri)"
            )
        return self

    def describe(self) -> str:
        if self.kind == "GoogleSecretManager":
            return f"GoogleSecretManager {self.uri}"
        return f"{self.kind} {self.name} key {self.key}"


class Hooks(SpecModel):
    enabled: bool = Field(True, description="false runs Helm with --no-hooks")
    timeout: Timeout | None = Field(
        None, description="time for the chart's hooks; Helm waits max(timeout, this)"
    )


class Tests(SpecModel):
    enabled: bool = True
    timeout: Timeout = "5m"


class UpgradePolicy(SpecModel):
    auto: Literal["none", "patch", "minor"] = Field(
        "none", description="which newer chart versions the scheduled check may apply itself"
    )
    minimum_release_age: Duration = Field(
        "3d",
        description="how long after its repository published a chart version (the index's "
        "created time) the check may propose it automatically; 0 proposes at once",
    )

    @field_validator("minimum_release_age", mode="before")
    @classmethod
    def _zero(cls, value: Any) -> Any:
        # 0 (a number, or the text) is no time at all: written as a duration.
        return "0s" if value in (0, "0") and not isinstance(value, bool) else value


class Remediation(SpecModel):
    retries: int = Field(3, ge=0, le=10)
    strategy: Literal["rollback", "uninstall"] = "rollback"
    bake_window: Duration = Field(
        "30m",
        description="how long after gunj changes the component a firing health alert rolls "
        "the change back",
    )


class DriftTarget(SpecModel):
    """The objects an ignore rule applies to (every object of the release when unset)."""

    kind: str | None = Field(None, pattern=r"^[A-Z][A-Za-z0-9]{0,62}$")
    name: ObjectName | None = None


class DriftIgnore(SpecModel):
    """Fields whose live value is never drift: JSON pointers (RFC 6901) into the object,
    ``/spec/replicas`` say, for every object of the release or the ``target`` ones."""

    paths: list[JsonPointer] = Field(min_length=1, max_length=20)
    target: DriftTarget | None = None


class DriftDetection(SpecModel):
    """What gunj does when the live objects of a release differ from what it holds: correct
    them (``enabled``), only report it (``warn``), or not look (``disabled``)."""

    mode: Literal["enabled", "warn", "disabled"] | None = Field(
        None, description="enabled (default), warn or disabled"
    )
    ignore: list[DriftIgnore] = Field(default_factory=list, max_length=20)


class ComponentSpec(SpecModel):
    enabled: bool = True
    version: AppVersion | None = Field(
        None, description="app version, e.g. v3.14.0; resolved to the newest chart carrying it"
    )
    chart_version: ChartVersion | None = Field(
        None, description="chart version or range, e.g. 29.27.0, ~29.27, >=12 <13"
    )
    mode: Mode | None = None
    chart: ChartSource | None = None
    replicas: int | None = Field(None, ge=0, le=100)
    resources: Resources | None = None
    retention: Duration | None = None
    node_selector: LabelMap | None = None
    tolerations: list[Toleration] | None = None
    affinity: dict[str, Any] | None = None
    config: dict[str, Any] | None = Field(
        None, description="Helm values merged over everything gunj derives (wins over it)"
    )
    values_from: list[ValuesFrom] = Field(default_factory=list)
    tests: Tests = Field(default_factory=Tests)
    hooks: Hooks = Field(default_factory=Hooks)
    upgrade_policy: UpgradePolicy = Field(default_factory=UpgradePolicy)
    remediation: Remediation = Field(default_factory=Remediation)
    drift_detection: DriftDetection = Field(default_factory=DriftDetection)
    timeout: Timeout = "5m"

"""The status gunj writes on an ObservabilityPlatform: phase, kstatus-style conditions, one
entry per component, quarantined versions, the last actions taken and the messages handled.

Status is read back by every reconcile (it holds the remediation counters, which revision was
verified, and which messages were handled), so a field it does not know, written by a newer
gunj, is ignored rather than refused.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from .base import SpecModel

Phase = Literal["Pending", "Installing", "Upgrading", "Ready", "Degraded", "Failed", "Paused"]
ConditionType = Literal[
    "Ready", "Reconciling", "Stalled", "Released", "TestSuccess", "Remediated", "Drifted"
]


# Where a component stands after a reconcile looked at it (``status.components.*.state``);
# its value is the word the status and the outcome show. (No docstring: it would become a
# description in the CRD's schema.)
class ComponentState(StrEnum):
    IN_SYNC = "InSync"
    """What the spec asks for, verified: nothing to do."""
    PROGRESSING = "Progressing"
    """Work remains (an action is due, or the deadline or step budget came first)."""
    LOCKED = "Locked"
    """An operation of it may still run (gunj's or a person's Helm): wait."""
    STALLED = "Stalled"
    """Retries spent for this spec, or a release gunj does not own: waits for a new spec or a
    person."""
    HELD = "Held"
    """The spec asks for a quarantined version or content: kept as it is until lifted."""
    FAILED = "Failed"
    """No working release (a failed first install, a failed rollback)."""
    REMOVED = "Removed"
    """Not wanted and gone."""
    DRIFTED = "Drifted"
    """Its live objects differ from what its release holds, and the spec says only to warn."""
    DEGRADED = "Degraded"
    """Its objects are as its release holds them, but a workload is not ready now."""
    PAUSED = "Paused"
    """The spec says paused."""

    @property
    def stuck(self) -> bool:
        """Cannot progress until the spec changes or a person acts."""
        return self in {ComponentState.STALLED, ComponentState.HELD, ComponentState.FAILED}

    @property
    def off_course(self) -> bool:
        """In sync by Helm's records, but not in the cluster now (drifted, or not ready)."""
        return self in {ComponentState.DRIFTED, ComponentState.DEGRADED}

    @property
    def working(self) -> bool:
        """An event (the next, or this one) still has work to do or wait for."""
        return self in {ComponentState.PROGRESSING, ComponentState.LOCKED}


class StatusModel(SpecModel):
    model_config = ConfigDict(extra="ignore")


class Condition(StatusModel):
    type: ConditionType
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    last_transition_time: datetime
    observed_generation: int | None = None


class DriftedObject(StatusModel):
    """One object whose live state differs from what the release holds: named, and where it
    differs (never a value)."""

    object: str = Field(description="kind and name")
    change: Literal["missing", "changed"]
    paths: list[str] = Field(default_factory=list, max_length=10)


class ComponentStatus(StatusModel):
    mode: Literal["helm", "native"]
    fallback: str = Field(
        "", description="why native mode stands in for the Helm mode the spec asks for"
    )
    state: ComponentState | None = None
    chart: str | None = None
    chart_version: str | None = None
    app_version: str | None = None
    revision: int | None = None
    deployed_at: datetime | None = Field(
        None, description="when the current revision was made (identifies it with the number)"
    )
    last_good_revision: int | None = Field(
        None, description="the newest revision that passed verification"
    )
    good_revisions: list[int] = Field(
        default_factory=list,
        max_length=10,
        description="revisions that passed verification, oldest first (rollback targets)",
    )
    last_good_digest: str | None = Field(
        None, description="digest of what the last good revision holds"
    )
    values_digest: str | None = Field(
        None, description="digest of chart, version and values of the current revision"
    )
    verified_revision: int | None = Field(
        None, description="the revision (with deployedAt) that tested and tests describe"
    )
    tested: bool = Field(False, description="that revision passed verification")
    tests: str = Field("", description="what verification found (probe, chart tests, or none)")
    last_changed: datetime | None = Field(
        None, description="when gunj last changed this component (starts the bake window)"
    )
    changed_revision: int | None = Field(None, description="the revision that change made")
    failures: int = Field(0, description="failed attempts at attempted_digest")
    last_failure: str = Field("", description="what the last failed attempt found")
    attempted_digest: str | None = None
    blocked: str = Field(
        "",
        description="why the cluster says attempted_digest cannot come up without a person "
        "(retries spent at once; set a new spec)",
    )
    message: str = ""
    drift: list[DriftedObject] = Field(
        default_factory=list,
        max_length=20,
        description="live objects that differ from what the current revision holds",
    )
    not_ready: str = Field("", description="workloads not ready now, and why")
    last_corrected: datetime | None = Field(
        None, description="when gunj last put the live objects back as the release holds them"
    )


class QuarantinedVersion(StatusModel):
    """What a rollback returned from: a whole chart version, or with a digest only that content."""

    component: str
    chart_version: str
    digest: str | None = Field(
        None,
        description="digest of chart, version and values rolled back from: only this content "
        "is held (unset: the whole chart version is)",
    )
    reason: str
    since: datetime
    incident: str | None = None

    @property
    def whole_version(self) -> bool:
        return self.digest is None


class Action(StatusModel):
    time: datetime
    component: str
    action: str
    outcome: str
    message: str = ""


class HandledMessage(StatusModel):
    """A Pub/Sub message that was applied, so a redelivery is recognised as a duplicate."""

    message_id: str
    digest: str
    time: datetime


class HandledAlert(StatusModel):
    """A health alert gunj judged, so a redelivery (to any instance) is judged only once."""

    key: str
    component: str
    time: datetime
    outcome: str
    message: str = ""


class UpgradeProposal(StatusModel):
    """An automatic upgrade the scheduled check proposed (published as a spec change)."""

    generation: int
    versions: dict[str, str]
    time: datetime
    message_id: str | None = None


class UpgradeSummary(StatusModel):
    """The latest scheduled upgrade check of the platform."""

    checked_at: datetime
    available: str = Field("", description="what each component could be upgraded to")
    proposal: UpgradeProposal | None = None


class PlatformStatus(StatusModel):
    phase: Phase | None = None
    observed_at: datetime | None = Field(
        None, description="when gunj last looked at every component's live objects"
    )
    observed_generation: int | None = None
    acting_as: str | None = Field(
        None, description="whose rights gunj's work on the platform has (the cluster registry's)"
    )
    conditions: list[Condition] = Field(default_factory=list)
    components: dict[str, ComponentStatus] = Field(default_factory=dict)
    quarantined_versions: list[QuarantinedVersion] = Field(default_factory=list)
    last_actions: list[Action] = Field(default_factory=list, max_length=20)
    handled_messages: list[HandledMessage] = Field(default_factory=list, max_length=20)
    handled_alerts: list[HandledAlert] = Field(default_factory=list, max_length=50)
    upgrades: UpgradeSummary | None = None

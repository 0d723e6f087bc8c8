"""The status gunj writes on an ObservabilityPlatform: phase, kstatus-style conditions, one
entry per component, quarantined versions and the last actions taken."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .base import SpecModel

Phase = Literal["Pending", "Installing", "Upgrading", "Ready", "Degraded", "Failed"]
ConditionType = Literal["Ready", "Reconciling", "Stalled", "Released", "TestSuccess", "Remediated"]


class Condition(SpecModel):
    type: ConditionType
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    last_transition_time: datetime
    observed_generation: int | None = None


class ComponentStatus(SpecModel):
    mode: Literal["helm", "native"]
    chart: str | None = None
    chart_version: str | None = None
    app_version: str | None = None
    revision: int | None = None
    last_good_revision: int | None = None
    values_digest: str | None = None
    tested: bool = False
    message: str = ""


class QuarantinedVersion(SpecModel):
    component: str
    chart_version: str
    reason: str
    since: datetime


class Action(SpecModel):
    time: datetime
    component: str
    action: str
    outcome: str
    message: str = ""


class PlatformStatus(SpecModel):
    phase: Phase | None = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=list)
    components: dict[str, ComponentStatus] = Field(default_factory=dict)
    quarantined_versions: list[QuarantinedVersion] = Field(default_factory=list)
    last_actions: list[Action] = Field(default_factory=list, max_length=20)

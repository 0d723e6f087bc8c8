"""Classify one component from what is observed and what is desired: the only place that
interprets a release. Pure: it reads its arguments and nothing else.

What it finds (a :class:`Finding`) is the engine's second word for a component's state, between
the release's state in Helm's storage (:class:`~shared.helm.releases.ReleaseState`) and the
:class:`~shared.values.spec.status.ComponentState` a decision leads to (``docs/engine.md`` has
the glossary).

| finding | observed |
|---|---|
| ``GONE`` | disabled, and no release |
| ``UNWANTED`` | disabled (or gone from the spec), and a release gunj made |
| ``FOREIGN`` | a release of that name that gunj never made |
| ``ABSENT`` | no release (or only an uninstalled one) |
| ``LOCKED`` | an operation is pending and may still be running |
| ``STALE_LOCK`` | an operation is pending and cannot be running any more (its Helm process
  has exited, or its deadline passed) |
| ``FAILED`` | the current revision failed (install, upgrade or rollback) |
| ``QUARANTINED`` | the spec asks for a version, or content, quarantined on this platform |
| ``DRIFTED`` | the current revision is not what gunj made it: changed by hand |
| ``OUT_OF_SYNC`` | chart, version or values differ from the spec |
| ``UNVERIFIED`` | what the spec asks for, not yet verified at this revision |
| ``VERIFY_FAILED`` | what the spec asks for, and its verification failed |
| ``REPUBLISHED`` | what the spec asks for, but its chart was republished under the same
  version (another archive) |
| ``OBJECTS_DRIFTED`` | what the spec asks for, verified, but its live objects differ from it |
| ``NOT_READY`` | what the spec asks for, verified, its objects as it holds them, but a workload
  is not ready now |
| ``IN_SYNC`` | what the spec asks for, verified, and so are its live objects |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..helm.releases import ObservedRelease, ReleaseState
from ..labels import ARCHIVE_LABEL, PLATFORM_LABEL
from ..values.spec.status import ComponentStatus
from .desired import DesiredRelease
from .live.state import LiveState
from .quarantine import Held, why_held


class Finding(StrEnum):
    GONE = "gone"
    UNWANTED = "unwanted"
    FOREIGN = "foreign"
    ABSENT = "absent"
    LOCKED = "locked"
    STALE_LOCK = "stale-lock"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    DRIFTED = "drifted"
    OUT_OF_SYNC = "out-of-sync"
    UNVERIFIED = "unverified"
    VERIFY_FAILED = "verify-failed"
    REPUBLISHED = "republished"
    OBJECTS_DRIFTED = "objects-drifted"
    NOT_READY = "not-ready"
    IN_SYNC = "in-sync"


@dataclass(frozen=True)
class Classification:
    finding: Finding
    reason: str
    verified: bool | None = None
    """For a deployed release: what verification found at its current revision (None: not
    verified yet)."""


def owned_by(observed: ObservedRelease, platform: str) -> bool:
    """gunj made some revision of this release for ``platform``. Any revision counts: a
    ``helm upgrade`` by hand may drop or keep the labels, but cannot rewrite history."""
    return any(labels.get(PLATFORM_LABEL) == platform for labels in observed.label_history)


def verified_here(record: ComponentStatus | None, observed: ObservedRelease) -> bool | None:
    """What verification found for the current revision: True, False, or None (not run).
    The revision number alone is not enough: it restarts at 1 after an uninstall."""
    if record is None or record.verified_revision is None:
        return None
    if record.verified_revision != observed.revision or record.deployed_at != observed.deployed_at:
        return None
    return record.tested


def classify(  # noqa: PLR0911 - one answer per state, as the table reads
    desired: DesiredRelease | None,
    observed: ObservedRelease,
    record: ComponentStatus | None,
    *,
    platform: str,
    held: Held,
    now: datetime,
    live: LiveState | None = None,
) -> Classification:
    """``held``: what is quarantined for the component on this platform; ``live``: what the
    cluster holds of the release now (None: not looked at)."""
    present = observed.state is not ReleaseState.ABSENT
    if present and not owned_by(observed, platform):
        if desired is None:
            return Classification(
                Finding.GONE, "not enabled (a release of that name is not gunj's)"
            )
        return Classification(
            Finding.FOREIGN,
            f"release {observed.name} exists and was not made by gunj for {platform}; "
            "gunj does not take over releases (uninstall it, or name the platform differently)",
        )
    if desired is None:
        if present:
            return Classification(Finding.UNWANTED, "not enabled in the spec")
        return Classification(Finding.GONE, "not enabled")
    if observed.state is ReleaseState.ABSENT:
        return Classification(Finding.ABSENT, "not installed")
    if observed.state is ReleaseState.LOCKED:
        return _lock(observed, desired, now)
    if observed.state is ReleaseState.FAILED:
        return Classification(
            Finding.FAILED, f"revision {observed.revision} failed: {observed.description}"
        )
    verified = verified_here(record, observed)
    if observed.content_digest != desired.digest:
        why = why_held(desired, observed, platform, held)
        if why is not None:
            return Classification(Finding.QUARANTINED, why, verified)
        if _changed_by_hand(observed, record):
            return Classification(
                Finding.DRIFTED,
                f"revision {observed.revision} was changed outside gunj "
                f"(chart {observed.chart_version}, values differ from what gunj applied)",
                verified,
            )
        return Classification(
            Finding.OUT_OF_SYNC,
            f"revision {observed.revision} holds {observed.chart} {observed.chart_version}; "
            f"the spec asks for {desired.describe()}"
            + (" with other values" if observed.chart_version == desired.version else ""),
            verified,
        )
    archive = observed.labels.get(ARCHIVE_LABEL)
    if desired.archive and archive and not desired.archive.startswith(archive):
        return Classification(
            Finding.REPUBLISHED,
            f"chart {desired.describe()} was republished under the same version: revision "
            f"{observed.revision} was made from archive {archive[:12]}, the repository now "
            f"serves {desired.archive[:12]}",
            verified,
        )
    return _deployed(observed, record, verified, live)


def _deployed(
    observed: ObservedRelease,
    record: ComponentStatus | None,
    verified: bool | None,
    live: LiveState | None,
) -> Classification:
    """A release that holds what the spec asks for: verified, and as it is in the cluster."""
    if verified is None:
        return Classification(Finding.UNVERIFIED, f"revision {observed.revision} not verified yet")
    if not verified:
        return Classification(
            Finding.VERIFY_FAILED,
            f"revision {observed.revision} failed verification: {record.tests if record else ''}",
        )
    if live is not None and live.drifted:
        return Classification(
            Finding.OBJECTS_DRIFTED,
            f"revision {observed.revision}: " + "; ".join(d.describe() for d in live.drifted),
            verified,
        )
    if live is not None and live.not_ready:
        return Classification(
            Finding.NOT_READY,
            f"revision {observed.revision}: not ready now: " + "; ".join(live.not_ready),
            verified,
        )
    return Classification(Finding.IN_SYNC, f"revision {observed.revision} verified")


def _changed_by_hand(observed: ObservedRelease, record: ComponentStatus | None) -> bool:
    """The current revision is not what gunj made: its label still claims gunj's digest (Helm
    carried it over) while its content differs, or it is newer than the last revision gunj
    recorded and holds something else (a person's upgrade or rollback)."""
    if record is None:
        return False
    label_lies = (
        observed.desired_digest is not None
        and observed.desired_digest == record.values_digest
        and observed.content_digest != observed.desired_digest
    )
    # A revision newer than the last gunj recorded (its own actions are recorded as they end),
    # holding other content: a person's `helm upgrade`, or a `helm rollback`, whose revision
    # carries the older revision's labels, gunj's digest of that older content among them.
    newer = (
        record.revision is not None
        and observed.revision is not None
        and observed.revision > record.revision
        and observed.content_digest != record.values_digest
    )
    return label_lies or newer


def _lock(observed: ObservedRelease, desired: DesiredRelease, now: datetime) -> Classification:
    status = observed.status.value if observed.status else "pending"
    if observed.runner is not None and observed.runner_exited:
        # Proved, not guessed: the process that holds the lock ran here and is gone.
        return Classification(
            Finding.STALE_LOCK,
            f"{status} since revision {observed.revision}, and the "
            f"{observed.runner.describe()} that wrote it has exited",
        )
    if observed.deadline is not None:
        if now < observed.deadline:
            return Classification(
                Finding.LOCKED,
                f"{status} since revision {observed.revision}; its Helm may run until "
                f"{observed.deadline.isoformat()}",
            )
        return Classification(
            Finding.STALE_LOCK, f"{status} past its deadline {observed.deadline.isoformat()}"
        )
    # No deadline of gunj's (a person's helm, or a rollback): its age against the longest
    # operation this component allows.
    limit = desired.budget.timeout * 2
    if observed.locked_for is not None and observed.locked_for > limit:
        return Classification(Finding.STALE_LOCK, f"{status} for {observed.locked_for}")
    return Classification(Finding.LOCKED, f"{status} for {observed.locked_for}; waiting")

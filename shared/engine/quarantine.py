"""Quarantine: what a rollback returned from is not applied again until the spec asks for
something else or a person lifts it. Pure: these functions read and return the status's list of
quarantined versions; :class:`~.record.Recorder` stores it.

An entry holds a whole chart version, or, with a digest, only one content of it (chart, version
and values, as the engine compares them): the rollback kept the version and undid values alone,
so holding the version would hold what runs now.

With a fleet store, what an alert rolled back on any cluster is held here too
(:class:`FleetHolds`): asked only when the spec asks for something other than what runs, that
is when an install or upgrade is about to happen, never on the path where nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..helm.releases import ObservedRelease
from ..values.spec.status import QuarantinedVersion
from .desired import DesiredRelease

SHORT_DIGEST = 12
"""The characters of a digest shown to a person (and enough to name it to ``unquarantine``)."""
DIGESTS_KEPT = 10
"""Content held per component: the oldest goes first, so a component whose values are often
changed and rolled back does not grow the status without end."""
REASON_LENGTH = 500


class FleetHolds(Protocol):
    """What the fleet holds (:mod:`shared.fleet.holds`), for one piece of work."""

    def why_held(self, component: str, chart: str, version: str, digest: str) -> str | None:
        """Where and why the fleet holds ``version`` (or exactly this content) of ``chart``;
        None when it does not, or when the store cannot say (then noted, see ``notes``)."""
        ...

    @property
    def notes(self) -> list[str]:
        """What could not be checked (the store unreachable), for the outcome."""
        ...

    def fresh(self) -> FleetHolds:
        """The same store, with notes of its own (one per piece of work)."""
        ...


@dataclass(frozen=True)
class Held:
    """What is held for one component."""

    versions: frozenset[str] = frozenset()
    """Chart versions held whole."""
    digests: Mapping[str, str] = field(default_factory=dict)
    """Content held, each digest with why."""
    fleet: FleetHolds | None = field(default=None, compare=False)
    """What every cluster holds (None: no fleet store)."""


def held_for(
    entries: Sequence[QuarantinedVersion], component: str, fleet: FleetHolds | None = None
) -> Held:
    mine = [q for q in entries if q.component == component]
    return Held(
        frozenset(q.chart_version for q in mine if q.whole_version),
        {q.digest: q.reason for q in mine if q.digest},
        fleet,
    )


def why_held(
    desired: DesiredRelease, observed: ObservedRelease, platform: str, held: Held
) -> str | None:
    """Why what the spec asks for is held, and how to lift it; None when it is not."""
    kept = f"kept at revision {observed.revision} ({observed.chart_version})"
    lift = f"gunj unquarantine {desired.namespace}/{platform} {desired.component}"
    if desired.version in held.versions:
        return (
            f"chart version {desired.version} is quarantined on this platform; {kept}; name "
            f"another version, or lift it with `{lift} {desired.version}`"
        )
    why = held.digests.get(desired.digest)
    if why is None:
        return _held_by_fleet(desired, platform, held, kept)
    # A change of values alone was rolled back: the version stays allowed (it is what runs),
    # but exactly this content is not applied again until the spec changes.
    short = desired.digest[:SHORT_DIGEST]
    return (
        f"the spec asks for {desired.describe()} with the values a rollback returned from "
        f"(digest {short}: {why}), quarantined on this platform; {kept}; change the spec, or "
        f"lift it with `{lift} {short}`"
    )


def _held_by_fleet(desired: DesiredRelease, platform: str, held: Held, kept: str) -> str | None:
    if held.fleet is None:
        return None
    where = held.fleet.why_held(desired.component, desired.chart, desired.version, desired.digest)
    if where is None:
        return None
    lift = f"gunj unquarantine {desired.namespace}/{platform} {desired.component}"
    return (
        f"the spec asks for {desired.describe()}, quarantined fleet-wide ({where}); {kept}; "
        f"name another version, or lift it on every cluster with `{lift} {desired.version} "
        "--fleet`"
    )


def what_to_hold(before: ObservedRelease, after: ObservedRelease) -> tuple[str, str | None] | None:
    """What a rollback from ``before`` to ``after`` quarantines: the chart version it returned
    from, or, when it kept the version (in native mode nearly every change), the content it
    returned from by its digest, so what runs now is not held. None: nothing changed."""
    version = before.chart_version or ""
    if version and version != after.chart_version:
        return version, None
    if before.content_digest and before.content_digest != after.content_digest:
        return version, before.content_digest
    return None


def with_entry(
    entries: Sequence[QuarantinedVersion],
    component: str,
    version: str,
    *,
    reason: str,
    since: datetime,
    incident: str | None = None,
    digest: str | None = None,
) -> list[QuarantinedVersion]:
    """``entries`` with ``version`` of ``component`` held (with ``digest``: that content only),
    replacing an entry for the same, and keeping at most :data:`DIGESTS_KEPT` digests."""
    kept = [
        q
        for q in entries
        if not (q.component == component and q.chart_version == version and q.digest == digest)
    ]
    if digest is not None:
        mine = [q for q in kept if q.component == component and q.digest is not None]
        dropped = {id(q) for q in mine[: max(0, len(mine) - (DIGESTS_KEPT - 1))]}
        kept = [q for q in kept if id(q) not in dropped]
    entry = QuarantinedVersion.model_validate(
        {
            "component": component,
            "chartVersion": version,
            "digest": digest,
            "reason": reason[:REASON_LENGTH],
            "since": since,
            "incident": incident,
        }
    )
    return [*kept, entry]


def named_by(entry: QuarantinedVersion, component: str, what: str) -> bool:
    """Whether ``what`` names ``entry``: a chart version (the version, and any content of it
    held), or a digest held (whole, or its first :data:`SHORT_DIGEST` characters or more, as
    ``gunj status`` shows it)."""
    if entry.component != component:
        return False
    if entry.chart_version == what:
        return True
    return entry.digest is not None and len(what) >= SHORT_DIGEST and entry.digest.startswith(what)


def describe(entry: QuarantinedVersion) -> str:
    if entry.digest is None:
        return f"chart version {entry.chart_version}"
    return f"chart version {entry.chart_version} with digest {entry.digest[:SHORT_DIGEST]}"

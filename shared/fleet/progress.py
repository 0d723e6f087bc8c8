"""A rollout and the next step it takes, decided from the rollout, the platforms' summaries and
the time, and nothing else: no store, no cluster, no clock of its own.

A rollout goes through its waves in order. A wave is ``pending`` until it starts (its changes
are published: :mod:`.rollouts` does that once the store has the wave as ``applying``), then
``applying`` until every platform it targets is Ready at the new version, then ``baking`` until
its bake window has passed (the rollout's ``bakeSeconds`` from the moment the last platform was
Ready, and each platform's own bake window), then ``done``, and the next wave starts. An alert
rollback of the new version on any platform the rollout reached halts it.

What "at the new version" means depends on the kind: an ``upgrade`` rollout's component runs the
chart version ``toVersion``; a ``spec`` rollout's platform last reconciled the spec whose digest
the rollout keeps (``specDigest``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ..timestamps import parse_time

RolloutState = Literal["running", "paused", "halted", "aborted", "done"]
WaveStateName = Literal["pending", "applying", "baking", "done", "halted"]
Kind = Literal["upgrade", "spec"]
HISTORY_KEPT = 50
"""The rollout keeps its last this many events (what a person reads in ``gunj rollout status``)."""


@dataclass
class Wave:
    name: str
    clusters: list[str]
    state: WaveStateName = "pending"
    started_at: datetime | None = None
    ready_at: datetime | None = None
    done_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "clusters": list(self.clusters),
            "state": self.state,
            "startedAt": self.started_at,
            "readyAt": self.ready_at,
            "doneAt": self.done_at,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Wave:
        return cls(
            name=str(document["name"]),
            clusters=[str(c) for c in document.get("clusters") or []],
            state=document.get("state", "pending"),
            started_at=_time(document.get("startedAt")),
            ready_at=_time(document.get("readyAt")),
            done_at=_time(document.get("doneAt")),
        )


@dataclass
class Rollout:
    """The rollout document (``rollouts/{id}``) as Python sees it."""

    id: str
    kind: Kind
    waves: list[Wave]
    component: str | None = None
    chart: str | None = None
    to_version: str | None = None
    spec: str | None = None
    """A ``spec`` rollout: the spec's text, published as it is."""
    spec_digest: str | None = None
    platform: str | None = None
    """``namespace/name`` of a ``spec`` rollout's platform (None: an upgrade's, every platform
    whose check proposes it)."""
    targets: dict[str, list[str]] = field(default_factory=dict)
    """cluster -> ``namespace/name`` of the platforms the rollout changes there."""
    current: int = 0
    state: RolloutState = "running"
    halted_by: str | None = None
    bake_seconds: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    revision: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "upgrade":
            return f"{self.component} {self.chart} {self.to_version}"
        return f"spec of {self.platform} ({(self.spec_digest or '')[:10]})"

    def note(self, at: datetime, what: str) -> None:
        self.history = [*self.history, {"at": at, "what": what}][-HISTORY_KEPT:]

    def members(self, wave: Wave) -> list[tuple[str, str]]:
        """(cluster, ``namespace/name``) of the platforms ``wave`` changes."""
        return [(c, p) for c in wave.clusters for p in sorted(self.targets.get(c, []))]

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "component": self.component,
            "chart": self.chart,
            "toVersion": self.to_version,
            "spec": self.spec,
            "specDigest": self.spec_digest,
            "platform": self.platform,
            "targets": {c: sorted(p) for c, p in self.targets.items()},
            "waves": [wave.to_document() for wave in self.waves],
            "current": self.current,
            "state": self.state,
            "haltedBy": self.halted_by,
            "bakeSeconds": self.bake_seconds,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "revision": self.revision,
            "history": list(self.history),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Rollout:
        return cls(
            id=str(document["id"]),
            kind=document["kind"],
            waves=[Wave.from_document(w) for w in document.get("waves") or []],
            component=document.get("component"),
            chart=document.get("chart"),
            to_version=document.get("toVersion"),
            spec=document.get("spec"),
            spec_digest=document.get("specDigest"),
            platform=document.get("platform"),
            targets={
                str(c): [str(p) for p in ps] for c, ps in (document.get("targets") or {}).items()
            },
            current=int(document.get("current") or 0),
            state=document.get("state", "running"),
            halted_by=document.get("haltedBy"),
            bake_seconds=int(document.get("bakeSeconds") or 0),
            created_at=_time(document.get("createdAt")),
            updated_at=_time(document.get("updatedAt")),
            revision=int(document.get("revision") or 0),
            history=list(document.get("history") or []),
        )


Action = Literal["start", "ready", "wait", "advance", "complete", "halt", "none"]


@dataclass(frozen=True)
class Decision:
    """The next step: ``start`` the current wave (publish its changes), ``ready`` (every
    platform of the wave is Ready at the new version: its bake starts), ``wait`` (for
    ``waiting`` platforms, or until ``bake_until``), ``advance`` (the wave is done; the next one
    starts), ``complete`` (the last wave is done), ``halt`` (an alert rolled the change back),
    ``none`` (the rollout is not running)."""

    action: Action
    reason: str
    wave: int = 0
    waiting: tuple[str, ...] = ()
    bake_until: datetime | None = None
    at: datetime | None = None
    """``ready``: when the last of the wave's platforms was recorded Ready (its bake counts
    from then, not from whichever event saw it)."""


def summary_key(cluster: str, platform: str) -> str:
    """The id of a platform's summary (``platforms/{cluster}~{namespace}~{name}``)."""
    namespace, _, name = platform.partition("/")
    return f"{cluster}~{namespace}~{name}"


def decide(  # noqa: PLR0911 - one return per step, each saying why
    rollout: Rollout, summaries: Mapping[str, Mapping[str, Any]], now: datetime
) -> Decision:
    """The next step of ``rollout``. ``summaries``: the platforms' summaries by
    :func:`summary_key` (those of the rollout's targets at least)."""
    if rollout.state != "running":
        return Decision("none", f"the rollout is {rollout.state}", rollout.current)
    if rollout.current >= len(rollout.waves):
        return Decision("complete", "every wave is done", rollout.current)
    if rolled_back := _rolled_back(rollout, summaries):
        return Decision("halt", rolled_back, rollout.current)
    index = rollout.current
    wave = rollout.waves[index]
    if wave.state == "pending":
        return Decision("start", f"wave {wave.name} starts", index)
    if not rollout.members(wave):
        last = index + 1 >= len(rollout.waves)
        reason = f"wave {wave.name} has no platform to change"
        return Decision("complete" if last else "advance", reason, index)
    waiting = tuple(
        why
        for cluster, platform in rollout.members(wave)
        if (
            why := _not_there(
                rollout, cluster, platform, summaries.get(summary_key(cluster, platform))
            )
        )
    )
    if waiting:
        return Decision(
            "wait",
            f"wave {wave.name}: {len(waiting)} platform(s) not Ready at the new version",
            index,
            waiting,
        )
    if wave.state == "applying" or wave.ready_at is None:
        since = _last_update(rollout, wave, summaries, now)
        return Decision("ready", f"wave {wave.name}: every platform is Ready", index, at=since)
    until = bake_until(rollout, wave, summaries)
    if now < until:
        return Decision(
            "wait", f"wave {wave.name} bakes until {until.isoformat()}", index, bake_until=until
        )
    if index + 1 >= len(rollout.waves):
        return Decision("complete", f"wave {wave.name}, the last, is done", index)
    return Decision("advance", f"wave {wave.name} is done", index)


def bake_until(
    rollout: Rollout, wave: Wave, summaries: Mapping[str, Mapping[str, Any]]
) -> datetime:
    """When ``wave`` has baked: ``bakeSeconds`` after its platforms were all Ready, and not
    before any of its platforms' own bake window of the component has passed."""
    until = (wave.ready_at or wave.started_at or datetime.min.replace(tzinfo=UTC)) + timedelta(
        seconds=rollout.bake_seconds
    )
    for cluster, platform in rollout.members(wave):
        summary = summaries.get(summary_key(cluster, platform)) or {}
        for component in _components(rollout, summary):
            own = _time(component.get("bakeUntil"))
            if own is not None and own > until:
                until = own
    return until


def _last_update(
    rollout: Rollout, wave: Wave, summaries: Mapping[str, Mapping[str, Any]], now: datetime
) -> datetime:
    """When the last of the wave's platforms' summaries was written (``updatedAt``), never
    before the wave started nor after ``now``."""
    times = [
        at
        for cluster, platform in rollout.members(wave)
        if (at := _time((summaries.get(summary_key(cluster, platform)) or {}).get("updatedAt")))
    ]
    latest = max(times, default=now)
    if wave.started_at is not None and latest < wave.started_at:
        latest = wave.started_at
    return min(latest, now)


def _components(rollout: Rollout, summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    components = summary.get("components") or {}
    if rollout.kind == "upgrade":
        mine = components.get(rollout.component)
        return [mine] if isinstance(mine, Mapping) else []
    return [c for c in components.values() if isinstance(c, Mapping)]


def _not_there(
    rollout: Rollout, cluster: str, platform: str, summary: Mapping[str, Any] | None
) -> str:
    """Why the platform is not yet Ready at the new version ("": it is)."""
    where = f"{cluster}/{platform}"
    if summary is None:
        return f"{where}: no summary in the fleet store yet"
    if rollout.kind == "upgrade":
        component = (summary.get("components") or {}).get(rollout.component) or {}
        running = component.get("chartVersion")
        if running != rollout.to_version:
            return f"{where}: {rollout.component} runs {running or 'nothing'}"
    elif summary.get("specDigest") != rollout.spec_digest:
        return f"{where}: has not reconciled the new spec yet"
    if summary.get("ready") is not True or summary.get("phase") != "Ready":
        return f"{where}: {summary.get('phase') or 'no phase'}"
    return ""


def _rolled_back(rollout: Rollout, summaries: Mapping[str, Mapping[str, Any]]) -> str:
    """The alert rollback of the rollout's change on a platform it reached ("": none)."""
    for wave in rollout.waves[: rollout.current + 1]:
        if wave.started_at is None:
            continue
        for cluster, platform in rollout.members(wave):
            last = (summaries.get(summary_key(cluster, platform)) or {}).get("lastRollback")
            if not isinstance(last, Mapping):
                continue
            at = _time(last.get("at"))
            if at is None or at < wave.started_at:
                continue
            if rollout.kind == "upgrade" and (
                last.get("component") != rollout.component
                or last.get("fromVersion") != rollout.to_version
            ):
                continue
            return (
                f"alert rollback of {last.get('component')} {last.get('fromVersion')} on "
                f"{cluster}/{platform}"
            )
    return ""


def apply(rollout: Rollout, decision: Decision, now: datetime) -> bool:
    """Change ``rollout`` as ``decision`` says; True when it changed (to be written)."""
    wave = rollout.waves[decision.wave] if decision.wave < len(rollout.waves) else None
    if decision.action == "start" and wave is not None:
        wave.state, wave.started_at = "applying", now
    elif decision.action == "ready" and wave is not None:
        wave.state, wave.ready_at = "baking", decision.at or now
    elif decision.action in {"advance", "complete"}:
        if wave is not None:
            wave.state, wave.done_at = "done", now
        rollout.current = decision.wave + 1
        if decision.action == "complete":
            rollout.state = "done"
    elif decision.action == "halt":
        halt(rollout, decision.reason)
    else:
        return False
    rollout.note(now, decision.reason)
    return True


def halt(rollout: Rollout, why: str) -> None:
    """Halt where it is: the current wave is ``halted``, the later ones stay ``pending``."""
    rollout.state, rollout.halted_by = "halted", why
    if rollout.current < len(rollout.waves):
        rollout.waves[rollout.current].state = "halted"


def steps(
    rollout: Rollout, summaries: Mapping[str, Mapping[str, Any]], now: datetime
) -> tuple[list[Decision], Decision]:
    """Every step the rollout takes now (applied to it), and the decision it stopped at:
    several at once when a wave with nothing to change is done as soon as it starts."""
    taken: list[Decision] = []
    for _ in range(3 * len(rollout.waves) + 2):  # at most start, ready, advance per wave
        decision = decide(rollout, summaries, now)
        if not apply(rollout, decision, now):
            return taken, decision
        taken.append(decision)
    return taken, decide(rollout, summaries, now)


def plan_waves(waves: Sequence[tuple[str, Sequence[str]]]) -> list[Wave]:
    return [Wave(name, sorted(clusters)) for name, clusters in waves]


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_time(value)

"""Rollouts in the fleet store (``rollouts/{id}``): creating them, every change to them, and the
step that moves one on (:func:`advance`).

Every write goes through :meth:`.store.Store.change`: it reads the document, changes it, adds
one to its ``revision`` and writes only over the version read; when another function wrote
first, the change is worked out again on what that one wrote, so no change is lost. A wave's
changes are published only by the step whose transaction moved the wave to ``applying``, after
that transaction committed: a step that runs twice, or two at once, publish a wave once. If
publishing fails the wave goes back to ``pending`` (when nothing else changed it since), and
the next step publishes it again.

What a step decides is :mod:`.progress`'s; what it publishes:

- an ``upgrade`` rollout: a tick on ``upgrade-checks`` naming the wave's clusters. The upgrades
  function checks them and proposes the new version to their platforms, with every check an
  automatic upgrade has (the spec unchanged since the check, nothing in flight, the version not
  quarantined); the upgrades function itself publishes a wave it started directly.
- a ``spec`` rollout: the spec's text on ``platform-specs`` for each of the wave's clusters.

Steps are taken on events: the resync and upgrade-check ticks, a platform's outcome when it is in
a running rollout's current wave, and ``gunj rollout resume``. No function waits for a wave.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ..errors import GunjError
from . import summaries as platform_summaries
from .progress import Decision, Rollout, Wave, halt, steps, summary_key
from .store import KEEP, Keep, Store

COLLECTION = "rollouts"
BAKE = "GUNJ_ROLLOUT_BAKE"
"""Seconds every wave of an automatic upgrade bakes once its platforms are Ready, besides each
platform's own bake window (default 0: the platforms' own windows alone)."""
SPECS = "platform-specs"
CHECKS = "upgrade-checks"
_ID = re.compile(r"[^a-z0-9.+_-]+")


class UnknownRollout(GunjError):
    pass


class Publisher(Protocol):
    def publish(self, topic: str, document: Mapping[str, Any], **attributes: str) -> str: ...

    def publish_raw(self, topic: str, data: bytes, **attributes: str) -> str: ...


def _now() -> datetime:
    return datetime.now(UTC)


def upgrade_id(component: str, chart: str, version: str) -> str:
    """One rollout per component, chart and version: an automatic upgrade to a version is
    rolled out once (a halted or aborted one is not started again by the next check)."""
    return _ID.sub("-", f"{component}-{chart}-{version}".lower())


def spec_id(platform: str, digest: str) -> str:
    return _ID.sub("-", f"{platform.replace('/', '-')}-{digest[:12]}".lower())


def bake_seconds(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = env.get(BAKE, "").strip()
    return int(raw) if raw.isdigit() else 0


def get(store: Store, rollout_id: str) -> Rollout | None:
    document = store.read(COLLECTION, rollout_id)
    return None if document is None else Rollout.from_document(document)


def list_all(store: Store) -> list[Rollout]:
    rollouts = [Rollout.from_document(document) for _id, document in store.list(COLLECTION)]
    return sorted(rollouts, key=lambda r: (r.created_at or datetime.min.replace(tzinfo=UTC), r.id))


def _write(
    store: Store, rollout_id: str, change: Callable[[Rollout | None], Rollout | None]
) -> tuple[Rollout | None, bool]:
    """Read the rollout (None: there is none), let ``change`` return it changed (None: nothing
    to write), and write that with the next revision, only over the version read
    (:meth:`.store.Store.change`). ``change`` runs again when another write came first, on what
    that one wrote: it must work out everything from the rollout it is given. The rollout as
    stored afterwards, and whether it was written."""

    def document(current: dict[str, Any] | None) -> dict[str, Any] | Keep:
        rollout = None if current is None else Rollout.from_document(current)
        changed = change(rollout)
        if changed is None:
            return KEEP
        changed.revision = (rollout.revision if rollout else 0) + 1
        changed.updated_at = _now()
        return changed.to_document()

    result = store.change(COLLECTION, rollout_id, document)
    stored = None if result.after is None else Rollout.from_document(result.after)
    return stored, result.written


def create(store: Store, rollout: Rollout) -> tuple[Rollout, bool]:
    """Create ``rollout`` unless one with its id exists; the stored one, and whether it was
    created now."""

    def change(current: Rollout | None) -> Rollout | None:
        if current is not None:
            return None
        new = Rollout.from_document(rollout.to_document())
        new.created_at = new.created_at or _now()
        new.note(new.created_at, f"created: {new.describe()}")
        return new

    stored, written = _write(store, rollout.id, change)
    if stored is None:  # pragma: no cover - a rollout is either there or written
        raise UnknownRollout(f"rollout {rollout.id} was not created")
    return stored, written


def update(store: Store, rollout_id: str, change: Callable[[Rollout], bool]) -> Rollout:
    """Apply ``change`` (True: it changed the rollout) and write it; the rollout as stored
    afterwards. UnknownRollout when there is none."""

    def changed(current: Rollout | None) -> Rollout | None:
        if current is None:
            raise UnknownRollout(f"no rollout {rollout_id!r} (gunj rollout status lists them)")
        return current if change(current) else None

    stored, _ = _write(store, rollout_id, changed)
    if stored is None:  # pragma: no cover - raised above
        raise UnknownRollout(rollout_id)
    return stored


def ensure_upgrade(
    store: Store,
    component: str,
    chart: str,
    version: str,
    *,
    waves: Sequence[tuple[str, Sequence[str]]],
    targets: Mapping[str, Iterable[str]],
    bake: int = 0,
) -> tuple[Rollout, bool]:
    """The rollout of an automatic upgrade of ``component`` (``chart``) to ``version``: created
    if absent (waves as the registry has them now), and ``targets`` (cluster -> platforms whose
    check proposes it) added to it. The stored rollout, and whether it was created."""
    rollout_id = upgrade_id(component, chart, version)
    wanted = {c: set(p) for c, p in targets.items()}

    def change(current: Rollout | None) -> Rollout | None:
        if current is None:
            now = _now()
            new = Rollout(
                id=rollout_id,
                kind="upgrade",
                waves=[Wave(name, sorted(clusters)) for name, clusters in waves],
                component=component,
                chart=chart,
                to_version=version,
                targets={c: sorted(p) for c, p in wanted.items()},
                bake_seconds=bake,
                created_at=now,
            )
            new.note(now, f"created: automatic upgrade of {new.describe()}")
            return new
        added = False
        for cluster, platforms in wanted.items():
            have = set(current.targets.get(cluster, []))
            if not platforms <= have:
                current.targets[cluster] = sorted(have | platforms)
                added = True
        return current if added else None

    before = get(store, rollout_id)
    stored, _ = _write(store, rollout_id, change)
    if stored is None:  # pragma: no cover - written above
        raise UnknownRollout(rollout_id)
    return stored, before is None and stored.revision == 1


def read_summaries(store: Store, keys: Iterable[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """The summaries of the platforms named (cluster, ``namespace/name``), by
    :func:`.progress.summary_key`. Those not in the store are left out."""
    found: dict[str, dict[str, Any]] = {}
    for cluster, platform in sorted(set(keys)):
        namespace, _, name = platform.partition("/")
        summary = platform_summaries.get(store, cluster, namespace, name)
        if summary is not None:
            found[summary_key(cluster, platform)] = summary
    return found


@dataclass
class Step:
    """What one :func:`advance` did: the rollout as stored after it, the steps it took, the
    decision it stopped at, and the waves it published (by name)."""

    rollout: Rollout
    taken: list[Decision] = field(default_factory=list)
    stopped_at: Decision | None = None
    published: list[str] = field(default_factory=list)
    problem: str = ""


PublishWave = Callable[[Rollout, Wave], None]


def advance(
    store: Store,
    rollout_id: str,
    publish_wave: PublishWave,
    *,
    now: datetime | None = None,
) -> Step:
    """Take every step ``rollout_id`` can take now (:func:`.progress.steps`), write them in one
    write, then publish each wave that write started. The summaries are read first,
    outside the transaction: they are the platforms' own, written by their functions."""
    stored = get(store, rollout_id)
    if stored is None:
        raise UnknownRollout(f"no rollout {rollout_id!r}")
    summaries = read_summaries(store, (m for wave in stored.waves for m in stored.members(wave)))
    # Most steps change nothing (a wave still applying or baking): decided on the rollout as
    # read, they need no write, which keeps the ticks' steps from contending.
    idle_taken, idle_stop = steps(
        Rollout.from_document(stored.to_document()), summaries, now or _now()
    )
    if not idle_taken:
        return Step(stored, [], idle_stop)
    outcome: dict[str, Any] = {}

    def change(current: Rollout | None) -> Rollout | None:
        outcome.clear()  # a change run again decides again, from what is stored then
        if current is None:
            raise UnknownRollout(f"no rollout {rollout_id!r}")
        at = now or _now()
        taken, stopped = steps(current, summaries, at)
        outcome.update(taken=taken, stopped=stopped)
        return current if taken else None

    after, written = _write(store, rollout_id, change)
    assert after is not None  # noqa: S101 - change raises when there is none
    step = Step(after, outcome.get("taken", []), outcome.get("stopped"))
    if not written:
        return step
    for decision in step.taken:
        if decision.action != "start":
            continue
        wave = after.waves[decision.wave]
        try:
            publish_wave(after, wave)
        except GunjError as error:
            step.problem = f"wave {wave.name} not published: {error}"
            step.rollout = _unstart(store, rollout_id, decision.wave, after.revision, str(error))
            return step
        step.published.append(wave.name)
    return step


def _unstart(store: Store, rollout_id: str, index: int, revision: int, why: str) -> Rollout:
    """Put a wave whose changes could not be published back to ``pending``, unless the rollout
    changed since the step that started it (then that change decides)."""

    def change(current: Rollout) -> bool:
        if current.revision != revision or current.waves[index].state != "applying":
            return False
        current.waves[index].state, current.waves[index].started_at = "pending", None
        current.note(_now(), f"wave {current.waves[index].name} not published: {why}")
        return True

    return update(store, rollout_id, change)


def advance_running(
    store: Store, publish_wave: PublishWave, *, skip: Iterable[str] = ()
) -> list[Step]:
    """A step of every running rollout but those in ``skip`` (the ticks take these)."""
    skipped = set(skip)
    return [
        advance(store, rollout.id, publish_wave)
        for rollout in list_all(store)
        if rollout.state == "running" and rollout.id not in skipped
    ]


def running_with(store: Store, cluster: str, platform: str) -> list[Rollout]:
    """The running rollouts whose current wave changes ``platform`` in ``cluster``."""
    found = []
    for rollout in list_all(store):
        if rollout.state != "running" or rollout.current >= len(rollout.waves):
            continue
        if (cluster, platform) in rollout.members(rollout.waves[rollout.current]):
            found.append(rollout)
    return found


def halt_for_quarantine(
    store: Store, component: str, chart: str, version: str, why: str
) -> list[str]:
    """Halt every running or paused upgrade rollout of ``component`` (``chart``) to
    ``version``, quarantined now: the ids of those halted."""
    halted = []
    for found in list_all(store):
        if found.kind != "upgrade" or found.component != component:
            continue
        if found.to_version != version or found.chart != chart:
            continue

        def change(current: Rollout) -> bool:
            if current.state not in {"running", "paused"}:
                return False
            halt(current, why)
            current.note(_now(), f"halted: {why}")
            return True

        if update(store, found.id, change).state == "halted":
            halted.append(found.id)
    return halted


def pause(store: Store, rollout_id: str) -> Rollout:
    def change(current: Rollout) -> bool:
        if current.state != "running":
            raise GunjError(f"rollout {rollout_id} is {current.state}: only a running one pauses")
        current.state = "paused"
        current.note(_now(), "paused")
        return True

    return update(store, rollout_id, change)


def resume(store: Store, rollout_id: str) -> Rollout:
    """A paused or halted rollout runs again (a halted one from the wave it halted in, whose
    changes are published again: the next step takes it from ``pending``)."""

    def change(current: Rollout) -> bool:
        if current.state not in {"paused", "halted"}:
            raise GunjError(
                f"rollout {rollout_id} is {current.state}: only a paused or halted one resumes"
            )
        if current.state == "halted" and current.current < len(current.waves):
            current.waves[current.current].state = "pending"
        current.state, current.halted_by = "running", None
        current.note(_now(), "resumed")
        return True

    return update(store, rollout_id, change)


def abort(store: Store, rollout_id: str) -> Rollout:
    """Stop for good: no later wave gets the change (what the earlier ones got stays)."""

    def change(current: Rollout) -> bool:
        if current.state in {"aborted", "done"}:
            raise GunjError(f"rollout {rollout_id} is {current.state} already")
        current.state = "aborted"
        current.note(_now(), "aborted")
        return True

    return update(store, rollout_id, change)


def publisher_of_waves(out: Publisher, *, checked_here: Iterable[str] = ()) -> PublishWave:
    """How a wave's changes are published: a spec rollout's spec to each cluster of the wave
    that it targets; an upgrade rollout's as a tick on ``upgrade-checks`` for the wave's
    clusters, except ``checked_here`` (those the calling upgrade check proposes to itself)."""
    skip = set(checked_here)

    def publish(rollout: Rollout, wave: Wave) -> None:
        clusters = [c for c in wave.clusters if rollout.targets.get(c)]
        if rollout.kind == "spec":
            for cluster in clusters:
                out.publish_raw(
                    SPECS,
                    (rollout.spec or "").encode(),
                    cluster=cluster,
                    source=f"rollout {rollout.id}",
                )
            return
        clusters = [c for c in clusters if c not in skip]
        if clusters:
            out.publish(CHECKS, {"clusters": clusters, "rollout": rollout.id})

    return publish


def to_json(rollout: Rollout) -> dict[str, Any]:
    """The rollout as ``gunj rollout status -o json`` shows it."""
    document = rollout.to_document()
    plain: dict[str, Any] = json.loads(json.dumps(document, default=lambda v: v.isoformat()))
    return plain

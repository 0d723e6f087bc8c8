"""Rollouts in the fleet store (``rollouts/{id}``): creating them, every change to them, and the
step that moves one on (:func:`advance`).

Every write is a Firestore transaction that reads the document, changes it and adds one to its
``revision``: two functions changing one rollout at once are serialised by the store (the
loser's transaction runs again on what the winner wrote), so no change is lost. A wave's
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
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import GunjError
from .progress import Decision, Rollout, Wave, halt, steps, summary_key
from .settings import CALL_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "rollouts"
SUMMARIES = "platforms"
BAKE = "GUNJ_ROLLOUT_BAKE"
"""Seconds every wave of an automatic upgrade bakes once its platforms are Ready, besides each
platform's own bake window (default 0: the platforms' own windows alone)."""
SPECS = "platform-specs"
CHECKS = "upgrade-checks"
CONTENTION_SECONDS = 30.0
_ID = re.compile(r"[^a-z0-9.+_-]+")


class StoreUnavailable(GunjError):
    """The fleet store did not answer in time or refused the call: worth trying again."""

    transient = True


class UnknownRollout(GunjError):
    pass


class Publisher(Protocol):
    def publish(self, topic: str, document: Mapping[str, Any], **attributes: str) -> str: ...

    def publish_raw(self, topic: str, data: bytes, **attributes: str) -> str: ...


def _now() -> datetime:
    return datetime.now(UTC)


T = TypeVar("T")


def _calling(what: str, call: Callable[[], T]) -> T:
    """``call`` with the store's failures as :class:`StoreUnavailable` naming ``what``."""
    from google.api_core import exceptions

    try:
        return call()
    except (exceptions.GoogleAPICallError, exceptions.RetryError) as error:
        raise StoreUnavailable(
            f"the fleet store could not be reached ({what}): {type(error).__name__}"
        ) from None


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


def _ref(store: firestore.Client, rollout_id: str) -> Any:
    return store.collection(COLLECTION).document(rollout_id)


def get(store: firestore.Client, rollout_id: str) -> Rollout | None:
    snapshot = _calling(
        f"reading rollout {rollout_id}",
        lambda: _ref(store, rollout_id).get(timeout=CALL_TIMEOUT_SECONDS),
    )
    return Rollout.from_document(snapshot.to_dict() or {}) if snapshot.exists else None


def list_all(store: firestore.Client) -> list[Rollout]:
    documents = _calling(
        "listing rollouts",
        lambda: list(store.collection(COLLECTION).stream(timeout=CALL_TIMEOUT_SECONDS)),
    )
    rollouts = [Rollout.from_document(d.to_dict() or {}) for d in documents]
    return sorted(rollouts, key=lambda r: (r.created_at or datetime.min.replace(tzinfo=UTC), r.id))


def _transaction(
    store: firestore.Client,
    rollout_id: str,
    change: Callable[[Rollout | None], Rollout | None],
    what: str,
) -> tuple[Rollout | None, bool]:
    """In one transaction: read the rollout (None: there is none), let ``change`` return it
    changed (None: nothing to write), and write that with the next revision. ``change`` runs
    again when another write came first, on what that one wrote: it must work out everything
    from the rollout it is given. The rollout as stored afterwards, and whether it was
    written."""
    from google.cloud import firestore

    ref = _ref(store, rollout_id)

    @firestore.transactional
    def attempt(transaction: firestore.Transaction) -> tuple[Rollout | None, bool]:
        snapshot = ref.get(transaction=transaction, timeout=CALL_TIMEOUT_SECONDS)
        current = Rollout.from_document(snapshot.to_dict() or {}) if snapshot.exists else None
        changed = change(current)
        if changed is None:
            return current, False
        changed.revision = (current.revision if current else 0) + 1
        changed.updated_at = _now()
        transaction.set(ref, changed.to_document())
        return changed, True

    result: tuple[Rollout | None, bool] = _calling(
        what, lambda: _contended(lambda: attempt(store.transaction()))
    )
    return result


def _contended(run: Callable[[], T]) -> T:
    """``run`` (a transaction), tried again after a random pause while other writers keep
    winning, for up to :data:`CONTENTION_SECONDS`: the client library gives up after a few
    immediate tries, which a handful of writers of one document outlast."""
    from google.api_core import exceptions

    deadline = time.monotonic() + CONTENTION_SECONDS
    pause = 0.05
    while True:
        try:
            return run()
        except (ValueError, exceptions.Aborted) as error:
            if isinstance(error, ValueError) and "transaction" not in str(error):
                raise
            if time.monotonic() + pause > deadline:
                raise StoreUnavailable(
                    "the fleet store: too many writers of one rollout at once; try again"
                ) from None
        time.sleep(random.uniform(pause / 2, pause))  # noqa: S311 - spreading writers apart
        pause = min(pause * 2, 1.0)


def create(store: firestore.Client, rollout: Rollout) -> tuple[Rollout, bool]:
    """Create ``rollout`` unless one with its id exists; the stored one, and whether it was
    created now."""

    def change(current: Rollout | None) -> Rollout | None:
        if current is not None:
            return None
        new = Rollout.from_document(rollout.to_document())
        new.created_at = new.created_at or _now()
        new.note(new.created_at, f"created: {new.describe()}")
        return new

    stored, written = _transaction(store, rollout.id, change, f"creating rollout {rollout.id}")
    if stored is None:  # pragma: no cover - a rollout is either there or written
        raise UnknownRollout(f"rollout {rollout.id} was not created")
    return stored, written


def update(
    store: firestore.Client, rollout_id: str, change: Callable[[Rollout], bool], what: str
) -> Rollout:
    """Apply ``change`` (True: it changed the rollout) in a transaction; the rollout as stored
    afterwards. UnknownRollout when there is none."""

    def changed(current: Rollout | None) -> Rollout | None:
        if current is None:
            raise UnknownRollout(f"no rollout {rollout_id!r} (gunj rollout status lists them)")
        return current if change(current) else None

    stored, _ = _transaction(store, rollout_id, changed, f"{what} rollout {rollout_id}")
    if stored is None:  # pragma: no cover - raised above
        raise UnknownRollout(rollout_id)
    return stored


def ensure_upgrade(
    store: firestore.Client,
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
    stored, _ = _transaction(store, rollout_id, change, f"recording rollout {rollout_id}")
    if stored is None:  # pragma: no cover - written above
        raise UnknownRollout(rollout_id)
    return stored, before is None and stored.revision == 1


def read_summaries(
    store: firestore.Client, keys: Iterable[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """The summaries of the platforms named (cluster, ``namespace/name``), by
    :func:`.progress.summary_key`; one batched read. Those not in the store are left out."""
    refs = [store.collection(SUMMARIES).document(summary_key(c, p)) for c, p in set(keys)]
    if not refs:
        return {}
    snapshots = _calling(
        "reading platform summaries",
        lambda: list(store.get_all(refs, timeout=CALL_TIMEOUT_SECONDS)),
    )
    return {s.id: s.to_dict() or {} for s in snapshots if s.exists}


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
    store: firestore.Client,
    rollout_id: str,
    publish_wave: PublishWave,
    *,
    now: datetime | None = None,
) -> Step:
    """Take every step ``rollout_id`` can take now (:func:`.progress.steps`), write them in one
    transaction, then publish each wave that transaction started. The summaries are read first,
    outside the transaction: they are the platforms' own, written by their functions."""
    stored = get(store, rollout_id)
    if stored is None:
        raise UnknownRollout(f"no rollout {rollout_id!r}")
    summaries = read_summaries(store, (m for wave in stored.waves for m in stored.members(wave)))
    # Most steps change nothing (a wave still applying or baking): decided on the rollout as
    # read, they need no transaction, which keeps the ticks' steps from contending.
    idle_taken, idle_stop = steps(
        Rollout.from_document(stored.to_document()), summaries, now or _now()
    )
    if not idle_taken:
        return Step(stored, [], idle_stop)
    outcome: dict[str, Any] = {}

    def change(current: Rollout | None) -> Rollout | None:
        outcome.clear()  # a transaction run again decides again, from what is stored then
        if current is None:
            raise UnknownRollout(f"no rollout {rollout_id!r}")
        at = now or _now()
        taken, stopped = steps(current, summaries, at)
        outcome.update(taken=taken, stopped=stopped)
        return current if taken else None

    after, written = _transaction(store, rollout_id, change, f"advancing rollout {rollout_id}")
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


def _unstart(
    store: firestore.Client, rollout_id: str, index: int, revision: int, why: str
) -> Rollout:
    """Put a wave whose changes could not be published back to ``pending``, unless the rollout
    changed since the step that started it (then that change decides)."""

    def change(current: Rollout) -> bool:
        if current.revision != revision or current.waves[index].state != "applying":
            return False
        current.waves[index].state, current.waves[index].started_at = "pending", None
        current.note(_now(), f"wave {current.waves[index].name} not published: {why}")
        return True

    return update(store, rollout_id, change, "unstarting a wave of")


def advance_running(
    store: firestore.Client, publish_wave: PublishWave, *, skip: Iterable[str] = ()
) -> list[Step]:
    """A step of every running rollout but those in ``skip`` (the ticks take these)."""
    skipped = set(skip)
    return [
        advance(store, rollout.id, publish_wave)
        for rollout in list_all(store)
        if rollout.state == "running" and rollout.id not in skipped
    ]


def running_with(store: firestore.Client, cluster: str, platform: str) -> list[Rollout]:
    """The running rollouts whose current wave changes ``platform`` in ``cluster``."""
    query = store.collection(COLLECTION).where(filter=_equal("state", "running"))
    documents = _calling(
        "finding running rollouts", lambda: list(query.stream(timeout=CALL_TIMEOUT_SECONDS))
    )
    found = []
    for rollout in (Rollout.from_document(d.to_dict() or {}) for d in documents):
        if rollout.current >= len(rollout.waves):
            continue
        if (cluster, platform) in rollout.members(rollout.waves[rollout.current]):
            found.append(rollout)
    return found


def _equal(field_path: str, value: str) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field_path, "==", value)


def halt_for_quarantine(
    store: firestore.Client, component: str, chart: str | None, version: str, why: str
) -> list[str]:
    """Halt every running or paused upgrade rollout of ``component`` (``chart``; None: any) to
    ``version``, quarantined now: the ids of those halted."""
    query = store.collection(COLLECTION).where(filter=_equal("component", component))
    documents = _calling(
        "finding rollouts to halt",
        lambda: list(query.stream(timeout=CALL_TIMEOUT_SECONDS)),
    )
    halted = []
    for document in documents:
        found = Rollout.from_document(document.to_dict() or {})
        if found.kind != "upgrade" or found.to_version != version:
            continue
        if chart is not None and found.chart != chart:
            continue

        def change(current: Rollout) -> bool:
            if current.state not in {"running", "paused"}:
                return False
            halt(current, why)
            current.note(_now(), f"halted: {why}")
            return True

        if update(store, found.id, change, "halting").state == "halted":
            halted.append(found.id)
    return halted


def pause(store: firestore.Client, rollout_id: str) -> Rollout:
    def change(current: Rollout) -> bool:
        if current.state != "running":
            raise GunjError(f"rollout {rollout_id} is {current.state}: only a running one pauses")
        current.state = "paused"
        current.note(_now(), "paused")
        return True

    return update(store, rollout_id, change, "pausing")


def resume(store: firestore.Client, rollout_id: str) -> Rollout:
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

    return update(store, rollout_id, change, "resuming")


def abort(store: firestore.Client, rollout_id: str) -> Rollout:
    """Stop for good: no later wave gets the change (what the earlier ones got stays)."""

    def change(current: Rollout) -> bool:
        if current.state in {"aborted", "done"}:
            raise GunjError(f"rollout {rollout_id} is {current.state} already")
        current.state = "aborted"
        current.note(_now(), "aborted")
        return True

    return update(store, rollout_id, change, "aborting")


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

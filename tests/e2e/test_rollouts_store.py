"""Rollouts in a real Firestore (the emulator): concurrent changes to one rollout lose nothing,
concurrent steps publish a wave once, an upgrade rollout goes through three waves in order as
its platforms' summaries say they are Ready at the new version, an alert rollback's quarantine
halts it before the next wave, and the upgrade check's proposals reach only the current wave."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.clusters.waves import Wave as ClusterWave
from shared.fleet import rollouts
from shared.fleet.progress import Rollout, summary_key
from shared.fleet.store import Store
from shared.upgrades.check import ComponentCheck
from shared.upgrades.rollouts import gate_proposals
from shared.upgrades.run import PlatformReport

WAVES = [("canary", ["local"]), ("early", ["local-2"]), ("main", ["local-3"])]
TARGETS = {c: ["monitoring/obs"] for _, (c,) in WAVES}


class Published:
    """What the steps published, in order (topic, attributes, data)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, str], Any]] = []
        self._lock = threading.Lock()

    def publish(self, topic: str, document: Mapping[str, Any], **attributes: str) -> str:
        with self._lock:
            self.messages.append((topic, attributes, dict(document)))
            return str(len(self.messages))

    def publish_raw(self, topic: str, data: bytes, **attributes: str) -> str:
        with self._lock:
            self.messages.append((topic, attributes, data.decode()))
            return str(len(self.messages))


def at_once(calls: list[Callable[[], object]]) -> None:
    """Run ``calls`` in threads at once; what one raised fails the test."""
    with ThreadPoolExecutor(len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


def write_summary(store: Store, cluster: str, platform: str, version: str, **fields: Any) -> None:
    """A platform's summary as the reconcile function records it (``platforms/{id}``)."""
    namespace, name = platform.split("/")
    store.document("platforms", summary_key(cluster, platform)).set(
        {
            "cluster": cluster,
            "namespace": namespace,
            "name": name,
            "phase": fields.get("phase", "Ready"),
            "ready": fields.get("phase", "Ready") == "Ready",
            "components": {"tempo": {"chart": "tempo", "chartVersion": version}},
            "lastRollback": fields.get("rollback"),
            "updatedAt": datetime.now(UTC),
        }
    )


def new_rollout(store: Store) -> Rollout:
    rollout, created = rollouts.ensure_upgrade(
        store, "tempo", "tempo", "2.2.4", waves=WAVES, targets=TARGETS
    )
    assert created
    return rollout


def test_concurrent_changes_to_one_rollout_lose_nothing(fleet_store: Store) -> None:
    rollout = new_rollout(fleet_store)
    writers, each = 2, 5

    def write(writer: int) -> None:
        for index in range(each):

            def change(current: Rollout, what: str = f"writer {writer} change {index}") -> bool:
                current.note(datetime.now(UTC), what)
                return True

            rollouts.update(fleet_store, rollout.id, change)

    at_once([lambda w=w: write(w) for w in range(writers)])

    stored = rollouts.get(fleet_store, rollout.id)
    assert stored is not None
    assert stored.revision == 1 + writers * each
    notes = {entry["what"] for entry in stored.history}
    assert notes >= {f"writer {w} change {i}" for w in range(writers) for i in range(each)}


def test_concurrent_steps_publish_a_wave_once(fleet_store: Store) -> None:
    rollout = new_rollout(fleet_store)
    out = Published()
    publish = rollouts.publisher_of_waves(out)
    at_once([lambda: rollouts.advance(fleet_store, rollout.id, publish)] * 4)

    stored = rollouts.get(fleet_store, rollout.id)
    assert stored is not None
    assert out.messages == [
        ("upgrade-checks", {}, {"clusters": ["local"], "rollout": "tempo-tempo-2.2.4"})
    ]
    assert (stored.revision, stored.waves[0].state) == (2, "applying")


def test_concurrent_checks_create_one_rollout_and_keep_every_target(
    fleet_store: Store,
) -> None:
    created: list[bool] = []

    def check(cluster: str) -> None:
        _, made = rollouts.ensure_upgrade(
            fleet_store, "tempo", "tempo", "2.2.4", waves=WAVES, targets={cluster: ["a/obs"]}
        )
        created.append(made)

    at_once([lambda c=c: check(c) for c in ("local", "local-2", "local-3")])

    stored = rollouts.get(fleet_store, "tempo-tempo-2.2.4")
    assert stored is not None
    assert sorted(created) == [False, False, True]
    assert stored.targets == {"local": ["a/obs"], "local-2": ["a/obs"], "local-3": ["a/obs"]}
    assert stored.revision == 3


def test_an_upgrade_rollout_goes_through_three_waves_in_order(
    fleet_store: Store,
) -> None:
    rollout = new_rollout(fleet_store)
    out = Published()
    publish = rollouts.publisher_of_waves(out)
    for _, (cluster,) in WAVES:
        write_summary(fleet_store, cluster, "monitoring/obs", "2.2.3")

    order: list[list[str]] = []
    for _, (cluster,) in WAVES:
        step = rollouts.advance(fleet_store, rollout.id, publish)
        order.append(step.published)
        # Nothing moves while the wave's platform runs the old version.
        assert rollouts.advance(fleet_store, rollout.id, publish).published == []
        write_summary(fleet_store, cluster, "monitoring/obs", "2.2.4")
    last = rollouts.advance(fleet_store, rollout.id, publish)

    assert order == [["canary"], ["early"], ["main"]]
    assert [m[2]["clusters"] for m in out.messages] == [["local"], ["local-2"], ["local-3"]]
    assert last.rollout.state == "done"
    assert [w.state for w in last.rollout.waves] == ["done", "done", "done"]


def test_the_next_wave_waits_for_the_bake(fleet_store: Store) -> None:
    rollout, _ = rollouts.ensure_upgrade(
        fleet_store, "tempo", "tempo", "2.2.4", waves=WAVES, targets=TARGETS, bake=600
    )
    publish = rollouts.publisher_of_waves(Published())
    rollouts.advance(fleet_store, rollout.id, publish)
    write_summary(fleet_store, "local", "monitoring/obs", "2.2.4")

    baking = rollouts.advance(fleet_store, rollout.id, publish)
    still = rollouts.advance(
        fleet_store, rollout.id, publish, now=datetime.now(UTC) + timedelta(seconds=590)
    )
    baked = rollouts.advance(
        fleet_store, rollout.id, publish, now=datetime.now(UTC) + timedelta(seconds=601)
    )

    assert baking.stopped_at is not None and baking.stopped_at.bake_until is not None
    assert still.published == []
    assert baked.published == ["early"]


def test_an_alert_rollback_in_wave_one_halts_the_rollout_before_wave_two(
    fleet_store: Store,
) -> None:
    rollout = new_rollout(fleet_store)
    out = Published()
    publish = rollouts.publisher_of_waves(out)
    rollouts.advance(fleet_store, rollout.id, publish)

    halted = rollouts.halt_for_quarantine(
        fleet_store,
        "tempo",
        "tempo",
        "2.2.4",
        "alert rollback of tempo 2.2.4 on local/monitoring/obs",
    )
    # The canary's platform even reports Ready at the version afterwards: nothing moves on.
    write_summary(fleet_store, "local", "monitoring/obs", "2.2.4")
    later = rollouts.advance(
        fleet_store, rollout.id, publish, now=datetime.now(UTC) + timedelta(days=1)
    )

    assert halted == [rollout.id]
    assert later.rollout.state == "halted"
    assert later.rollout.halted_by == "alert rollback of tempo 2.2.4 on local/monitoring/obs"
    assert [w.state for w in later.rollout.waves] == ["halted", "pending", "pending"]
    assert [m[2]["clusters"] for m in out.messages] == [["local"]]


def test_a_rollback_in_a_platforms_summary_halts_the_rollout_at_its_next_step(
    fleet_store: Store,
) -> None:
    rollout = new_rollout(fleet_store)
    publish = rollouts.publisher_of_waves(Published())
    rollouts.advance(fleet_store, rollout.id, publish)
    rolled = {"component": "tempo", "fromVersion": "2.2.4", "at": datetime.now(UTC)}
    write_summary(fleet_store, "local", "monitoring/obs", "2.2.3", rollback=rolled)

    step = rollouts.advance(fleet_store, rollout.id, publish)

    assert step.rollout.state == "halted"
    assert step.published == []


def test_pause_resume_and_abort(fleet_store: Store) -> None:
    rollout = new_rollout(fleet_store)
    publish = rollouts.publisher_of_waves(Published())

    rollouts.pause(fleet_store, rollout.id)
    assert rollouts.advance(fleet_store, rollout.id, publish).published == []
    rollouts.resume(fleet_store, rollout.id)
    assert rollouts.advance(fleet_store, rollout.id, publish).published == ["canary"]
    aborted = rollouts.abort(fleet_store, rollout.id)

    assert aborted.state == "aborted"
    assert [e["what"] for e in aborted.history][-4:] == [
        "paused",
        "resumed",
        "wave canary starts",
        "aborted",
    ]


def report(cluster: str, version: str = "2.2.4") -> PlatformReport:
    result = PlatformReport(cluster, "monitoring", "obs", datetime.now(UTC))
    result.components = [ComponentCheck("tempo", "https://example.test", "tempo", "2.2.3")]
    result.proposal = {"tempo": version}
    return result


def test_the_upgrade_checks_proposals_reach_only_the_current_wave(
    fleet_store: Store,
) -> None:
    waves = [ClusterWave(name, tuple(clusters)) for name, clusters in WAVES]
    reports = [report("local"), report("local-2"), report("local-3")]
    out = Published()

    gated = gate_proposals(fleet_store, waves, reports, ["local", "local-2", "local-3"], out)

    assert [r.proposal for r in reports] == [{"tempo": "2.2.4"}, {}, {}]
    assert reports[1].proposal_note == (
        "not proposed now: tempo 2.2.4 waits for its wave (rollout tempo-tempo-2.2.4 is in "
        "wave canary)"
    )
    assert out.messages == []  # the check proposes to the canary itself
    assert [s.published for s in gated.steps] == [["canary"]]


def test_a_check_of_other_clusters_asks_the_waves_clusters_to_be_checked(
    fleet_store: Store,
) -> None:
    waves = [ClusterWave(name, tuple(clusters)) for name, clusters in WAVES]
    out = Published()
    rollouts.ensure_upgrade(fleet_store, "tempo", "tempo", "2.2.4", waves=WAVES, targets=TARGETS)

    gate_proposals(fleet_store, waves, [report("local-3")], ["local-3"], out)

    assert out.messages == [
        ("upgrade-checks", {}, {"clusters": ["local"], "rollout": "tempo-tempo-2.2.4"})
    ]


def test_a_halted_rollout_proposes_its_version_to_nobody(fleet_store: Store) -> None:
    waves = [ClusterWave(name, tuple(clusters)) for name, clusters in WAVES]
    rollout = new_rollout(fleet_store)
    rollouts.halt_for_quarantine(fleet_store, "tempo", "tempo", "2.2.4", "alert rollback")
    reports = [report("local")]

    gate_proposals(fleet_store, waves, reports, ["local"], Published())

    assert reports[0].proposal == {}
    assert reports[0].proposal_note == (
        f"not proposed now: tempo 2.2.4: rollout {rollout.id} is halted: alert rollback"
    )

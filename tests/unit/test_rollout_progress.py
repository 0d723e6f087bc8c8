"""The next step of a rollout, from the rollout, its platforms' summaries and the time: a wave
starts, waits for the platforms not Ready at the new version (naming them), bakes, and only then
lets the next wave start; an alert rollback of the new version halts it; a wave with nothing to
change is passed at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.fleet.progress import Rollout, Wave, decide, steps, summary_key

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CREATED = NOW - timedelta(hours=1)


def upgrade(bake: int = 600) -> Rollout:
    return Rollout(
        id="tempo-tempo-2.2.4",
        kind="upgrade",
        waves=[Wave("canary", ["local"]), Wave("early", ["local-2"]), Wave("main", ["local-3"])],
        component="tempo",
        chart="tempo",
        to_version="2.2.4",
        targets={
            "local": ["monitoring/obs"],
            "local-2": ["monitoring/obs", "team/obs"],
            "local-3": ["monitoring/obs"],
        },
        bake_seconds=bake,
        created_at=CREATED,
    )


def summary(
    version: str,
    *,
    phase: str = "Ready",
    bake_until: datetime | None = None,
    rollback: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "phase": phase,
        "ready": phase == "Ready",
        "components": {
            "tempo": {"chart": "tempo", "chartVersion": version, "bakeUntil": bake_until}
        },
        "lastRollback": rollback,
    }


def at(rollout: Rollout, version: str, *clusters: str, **fields: Any) -> dict[str, Any]:
    return {
        summary_key(cluster, platform): summary(version, **fields)
        for cluster in clusters
        for platform in rollout.targets[cluster]
    }


def test_a_new_rollout_starts_its_first_wave_only() -> None:
    rollout = upgrade()

    taken, stopped = steps(rollout, {}, NOW)

    assert [d.action for d in taken] == ["start"]
    assert [w.state for w in rollout.waves] == ["applying", "pending", "pending"]
    assert stopped.action == "wait"
    assert stopped.waiting == ("local/monitoring/obs: no summary in the fleet store yet",)


def test_a_wave_waits_naming_each_platform_not_ready_at_the_new_version() -> None:
    rollout = upgrade()
    steps(rollout, {}, NOW)
    rollout.current = 1
    rollout.waves[0].state, rollout.waves[1].state = "done", "applying"
    rollout.waves[1].started_at = NOW
    summaries = {
        summary_key("local-2", "monitoring/obs"): summary("2.2.3"),
        summary_key("local-2", "team/obs"): summary("2.2.4", phase="Progressing"),
    }

    decision = decide(rollout, summaries, NOW)

    assert decision.action == "wait"
    assert decision.waiting == (
        "local-2/monitoring/obs: tempo runs 2.2.3",
        "local-2/team/obs: Progressing",
    )


def test_the_next_wave_starts_only_after_the_bake_window_has_passed() -> None:
    rollout = upgrade(bake=600)
    steps(rollout, {}, NOW)
    ready = at(rollout, "2.2.4", "local")

    taken, stopped = steps(rollout, ready, NOW)
    assert [d.action for d in taken] == ["ready"]
    assert stopped.action == "wait" and stopped.bake_until == NOW + timedelta(seconds=600)
    assert rollout.waves[1].state == "pending"

    taken, _ = steps(rollout, ready, NOW + timedelta(seconds=599))
    assert taken == []

    taken, _ = steps(rollout, ready, NOW + timedelta(seconds=600))
    assert [d.action for d in taken] == ["advance", "start"]
    assert [w.state for w in rollout.waves] == ["done", "applying", "pending"]


def test_a_platforms_own_bake_window_holds_the_wave_longer_than_the_rollouts() -> None:
    rollout = upgrade(bake=60)
    steps(rollout, {}, NOW)
    own = NOW + timedelta(minutes=30)
    ready = at(rollout, "2.2.4", "local", bake_until=own)
    steps(rollout, ready, NOW)

    decision = decide(rollout, ready, NOW + timedelta(minutes=5))

    assert (decision.action, decision.bake_until) == ("wait", own)


def test_a_rollout_across_three_waves_completes_in_order() -> None:
    rollout = upgrade(bake=0)
    started: list[str] = []
    summaries: dict[str, Any] = {}
    for cluster in ("local", "local-2", "local-3"):
        taken, _ = steps(rollout, summaries, NOW)
        started += [rollout.waves[d.wave].name for d in taken if d.action == "start"]
        summaries |= at(rollout, "2.2.4", cluster)
    taken, _ = steps(rollout, summaries, NOW)

    assert started == ["canary", "early", "main"]
    assert [d.action for d in taken] == ["ready", "complete"]
    assert rollout.state == "done"
    assert [w.state for w in rollout.waves] == ["done", "done", "done"]


def test_an_alert_rollback_in_the_first_wave_halts_before_the_second() -> None:
    rollout = upgrade(bake=0)
    steps(rollout, {}, NOW)
    rolled = {"component": "tempo", "fromVersion": "2.2.4", "at": NOW + timedelta(seconds=5)}
    summaries = at(rollout, "2.2.3", "local", rollback=rolled)

    taken, _ = steps(rollout, summaries, NOW + timedelta(seconds=10))

    assert [d.action for d in taken] == ["halt"]
    assert rollout.state == "halted"
    assert rollout.halted_by == "alert rollback of tempo 2.2.4 on local/monitoring/obs"
    assert [w.state for w in rollout.waves] == ["halted", "pending", "pending"]
    assert decide(rollout, summaries, NOW + timedelta(hours=1)).action == "none"


def test_a_rollback_from_before_the_wave_started_or_of_another_version_does_not_halt() -> None:
    rollout = upgrade(bake=0)
    steps(rollout, {}, NOW)
    earlier = {"component": "tempo", "fromVersion": "2.2.4", "at": NOW - timedelta(days=1)}
    other = {"component": "tempo", "fromVersion": "2.2.2", "at": NOW + timedelta(seconds=5)}

    for rollback in (earlier, other):
        decision = decide(rollout, at(rollout, "2.2.3", "local", rollback=rollback), NOW)
        assert decision.action == "wait"


def test_a_wave_with_no_platform_to_change_is_passed_at_once() -> None:
    rollout = upgrade(bake=600)
    rollout.targets = {"local-3": ["monitoring/obs"]}

    taken, stopped = steps(rollout, {}, NOW)

    assert [d.action for d in taken] == ["start", "advance", "start", "advance", "start"]
    assert rollout.current == 2 and stopped.action == "wait"


def test_a_paused_rollout_takes_no_step() -> None:
    rollout = upgrade()
    rollout.state = "paused"

    taken, stopped = steps(rollout, {}, NOW)

    assert taken == [] and (stopped.action, stopped.reason) == ("none", "the rollout is paused")


def test_a_spec_rollout_waits_for_the_platform_to_reconcile_the_new_spec() -> None:
    rollout = Rollout(
        id="monitoring-obs-abc",
        kind="spec",
        waves=[Wave("canary", ["local"]), Wave("main", ["local-2"])],
        spec="...",
        spec_digest="abc",
        platform="monitoring/obs",
        targets={"local": ["monitoring/obs"], "local-2": ["monitoring/obs"]},
    )
    steps(rollout, {}, NOW)
    old = {
        summary_key("local", "monitoring/obs"): {
            "phase": "Ready",
            "ready": True,
            "specDigest": "0ld",
        }
    }
    new = {
        summary_key("local", "monitoring/obs"): {
            "phase": "Ready",
            "ready": True,
            "specDigest": "abc",
        }
    }

    assert decide(rollout, old, NOW).waiting == (
        "local/monitoring/obs: has not reconciled the new spec yet",
    )
    taken, _ = steps(rollout, new, NOW)
    assert [d.action for d in taken] == ["ready", "advance", "start"]


def test_the_document_round_trips() -> None:
    rollout = upgrade()
    steps(rollout, {}, NOW)

    again = Rollout.from_document(rollout.to_document())

    assert again == rollout

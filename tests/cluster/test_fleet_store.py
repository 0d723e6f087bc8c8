"""The fleet store against the real Firestore emulator: writers at once lose nothing (summaries
of many platforms, the same platform's summary from two writers, one quarantine recorded by
several clusters, a document changed by several processes), a summary never goes back to an
older one, a lifted quarantine is gone, and a store that does not answer is a transient error
the engine notes instead of failing on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.fleet import quarantines, summaries
from shared.fleet.holds import StoreHolds
from shared.fleet.settings import EMULATOR, PROJECT, FleetSettings
from shared.fleet.store import Store, StoreUnavailable, configured_store

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 6


def at_once(count: int, work: Any) -> list[Any]:
    """``work(index)`` in ``count`` threads started together; their results."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work(index)
        except BaseException as error:  # surfaced below, with the others'
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def summary(cluster: str, name: str, updated: datetime, generation: int = 1) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "namespace": "monitoring",
        "name": name,
        "phase": "Ready",
        "ready": True,
        "generation": generation,
        "observedGeneration": generation,
        "specDigest": None,
        "components": {"tempo": {"chart": "tempo", "chartVersion": f"2.2.{generation}"}},
        "lastRollback": None,
        "deleting": False,
        "updatedAt": updated,
    }


def test_summaries_written_at_once_are_all_kept_and_the_newest_of_one_platform_wins(
    fleet_store: Store,
) -> None:
    base = datetime.now(UTC)
    # Each writer records a platform of its own, and the same shared platform, each with a
    # later generation than the one before it: whatever order they land in, the newest stays.
    at_once(
        WRITERS,
        lambda i: (
            summaries.record(fleet_store, summary(f"c{i}", "obs", base)),
            summaries.record(
                fleet_store, summary("shared", "obs", base + timedelta(seconds=i), generation=i + 1)
            ),
        ),
    )
    kept = {(s["cluster"], s["name"]): s for s in summaries.list_all(fleet_store)}
    assert set(kept) == {(f"c{i}", "obs") for i in range(WRITERS)} | {("shared", "obs")}
    assert kept[("shared", "obs")]["observedGeneration"] == WRITERS

    # An older summary arriving late changes nothing; the same one again writes nothing.
    late = summary("shared", "obs", base, generation=1)
    assert not summaries.record(fleet_store, late)
    newest = summary("shared", "obs", base + timedelta(seconds=WRITERS - 1), generation=WRITERS)
    assert not summaries.record(fleet_store, newest)
    assert summaries.get(fleet_store, "shared", "monitoring", "obs")["observedGeneration"] == (
        WRITERS
    )
    assert summaries.forget(fleet_store, "shared", "monitoring", "obs")
    assert summaries.get(fleet_store, "shared", "monitoring", "obs") is None


def held(version: str, cluster: str, digest: str | None = None) -> quarantines.FleetQuarantine:
    return quarantines.FleetQuarantine(
        component="tempo",
        chart="tempo",
        chart_version=version,
        reason=f"TempoDown fired within the bake window on {cluster}",
        cluster=cluster,
        platform="monitoring/obs",
        incident=f"alertmanager/fp-{cluster}",
        digest=digest,
    )


def test_one_quarantine_recorded_by_several_clusters_at_once_is_one_and_the_first_stands(
    fleet_store: Store,
) -> None:
    created = at_once(
        WRITERS, lambda i: quarantines.quarantine(fleet_store, held("1.2.0", f"c{i}"))
    )
    assert created.count(True) == 1
    (stored,) = quarantines.list_all(fleet_store)
    assert stored.cluster == f"c{created.index(True)}"
    assert stored.since is not None

    # Different versions and contents at once: every one is held.
    at_once(WRITERS, lambda i: quarantines.quarantine(fleet_store, held(f"1.3.{i}", "c0")))
    quarantines.quarantine(fleet_store, held("1.4.0", "c0", digest="f" * 64))
    fleet = quarantines.held(fleet_store, "tempo", "tempo")
    assert fleet.versions == {"1.2.0"} | {f"1.3.{i}" for i in range(WRITERS)}
    assert fleet.holding("1.4.0", "f" * 64) is not None
    assert fleet.holding("1.4.0", "0" * 64) is None
    assert quarantines.held(fleet_store, "tempo", "another-chart").entries == ()

    lifted = quarantines.lift(fleet_store, "tempo", "1.2.0")
    assert [q.chart_version for q in lifted] == ["1.2.0"]
    assert quarantines.lift(fleet_store, "tempo", "1.2.0") == []
    assert "1.2.0" not in quarantines.held(fleet_store, "tempo").versions
    assert [q.digest for q in quarantines.lift(fleet_store, "tempo", "f" * 12)] == ["f" * 64]


COUNTER = """
import sys
from shared.fleet.store import configured_store

store = configured_store()
for _ in range(int(sys.argv[1])):
    store.change("counters", "c", lambda f: {"n": (f or {}).get("n", 0) + 1})
"""


def test_a_document_changed_by_several_processes_at_once_loses_no_change(
    fleet_store: Store,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    each = 10
    processes = [
        subprocess.Popen([sys.executable, "-c", COUNTER, str(each)], env=env, cwd=ROOT)
        for _ in range(3)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0, 0, 0]
    assert fleet_store.read("counters", "c") == {"n": 3 * each}


def test_a_store_that_does_not_answer_is_transient_and_the_engine_notes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = closed_port()
    monkeypatch.setenv(EMULATOR, host)
    monkeypatch.setenv(PROJECT, "nobody-home")
    settings = FleetSettings.from_environment()
    assert settings is not None
    down = Store(settings)
    with pytest.raises(StoreUnavailable) as raised:
        quarantines.list_all(down)
    assert raised.value.transient
    assert f"the emulator at {host}" in str(raised.value)
    # The engine's view: nothing held (the platform's own rules still hold), and said.
    holds = StoreHolds(down)
    assert holds.why_held("tempo", "tempo", "1.2.0", "digest") is None
    assert holds.notes and "fleet quarantines not checked" in holds.notes[0]


def closed_port() -> str:
    """An address of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def test_a_store_named_by_another_environment_than_the_process_is_reached(
    firestore_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command reaches the local stack's store from the stack's environment, not its own."""
    monkeypatch.delenv(EMULATOR, raising=False)
    env = {EMULATOR: firestore_host, PROJECT: f"test-{uuid.uuid4().hex[:12]}"}
    store = configured_store(env)
    assert store is not None
    assert quarantines.quarantine(store, held("1.2.0", "local"))
    assert [q.chart_version for q in quarantines.list_all(store)] == ["1.2.0"]

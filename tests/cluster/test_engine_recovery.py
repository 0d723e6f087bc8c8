"""A reconcile killed with SIGKILL in the middle of an upgrade, with Helm 3 and Helm 4: the
release is left pending, and the next reconcile waits while the killed one's Lease and Helm
deadline may still stand, then unlocks the release, rolls back what the killed upgrade may have
patched, and upgrades again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from shared.helm.models import ReleaseStatus
from shared.helm.releases import ReleaseState
from shared.localstack.stack import Stack
from tests.engine_support import SMALL_PROMETHEUS, Engine, cli_environment, platform

# Short enough for a test: the killed reconcile's Lease lapses after 5 s, its Helm's deadline
# (timeout plus the stop grace) 35 s after the upgrade began.
BASE = {**SMALL_PROMETHEUS, "timeout": "20s"}
SLOW = {
    **BASE,
    "retention": "2d",
    "config": {"server": {"podAnnotations": {"gunj.io/ready-after": "8s"}}},
}


def test_a_reconcile_killed_mid_upgrade_is_recovered_by_the_next(
    engine: Engine, namespace: str, local_stack: Stack, tmp_path: Path
) -> None:
    assert engine.apply(platform(namespace, prometheus=BASE)).result == "ready"
    slow = platform(namespace, prometheus=SLOW)
    spec = tmp_path / "slow.yaml"
    spec.write_text(yaml.safe_dump(slow.manifest()))
    env = cli_environment(local_stack, tmp_path, engine.helm.binary.path)
    killed = subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", "apply", str(spec), "--cluster", "local"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while engine.release(namespace, "obs-prometheus").state is not ReleaseState.LOCKED:
            assert time.monotonic() < deadline, "the upgrade never became pending"
            assert killed.poll() is None, "gunj apply ended before it could be killed"
            time.sleep(0.1)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)  # gunj and its Helm, as a torn-down instance
        killed.wait()

    stuck = engine.release(namespace, "obs-prometheus")
    assert (stuck.status, stuck.revision) == (ReleaseStatus.PENDING_UPGRADE, 2)
    assert stuck.deadline is not None

    results = []
    while True:
        outcome = engine.apply(slow)
        results.append(outcome.result)
        if outcome.result != "deferred":
            break
        assert len(results) < 60, results
        time.sleep(2)

    assert outcome.result == "ready", outcome
    assert "deferred" in results  # the killed Helm's deadline was respected
    assert outcome.components[0].actions == ("unlock", "rollback", "upgrade", "verify")
    release = engine.release(namespace, "obs-prometheus")
    assert (release.state, release.revision) == (ReleaseState.DEPLOYED, 4)
    assert release.content_digest == engine.status(namespace).components["prometheus"].values_digest
    assert [reason for _, reason, _ in engine.events(namespace)].count("Unlock") == 1

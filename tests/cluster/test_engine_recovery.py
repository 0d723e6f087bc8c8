"""A reconcile killed with SIGKILL in the middle of an upgrade, with Helm 3 and Helm 4: its Helm
dies with it (the parent-death signal, or the same SIGKILL), and the next reconcile recovers as
soon as the killed one's Lease lapses, without waiting for the killed Helm's deadline: the
pending revision names its Helm process, which has exited. A pending revision whose Helm process
still runs, or ran on another machine, is not unlocked before its deadline. And a Helm that
gunj's own deadline stopped leaves a lock the next step releases at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.helm.models import ReleaseStatus
from shared.helm.process import helm_environment, run_helm
from shared.helm.releases import ReleaseState
from shared.helm.runner import Runner, runner_of
from shared.labels import DEADLINE_LABEL, RUNNER_LABEL
from shared.localstack.stack import Stack
from shared.redaction import Redactor
from tests.engine_support import SMALL_PROMETHEUS, Engine, cli_environment, platform
from tests.support import http_chart

# Short enough for a test: the killed reconcile's Lease lapses after 5 s, its Helm's deadline
# (timeout plus the stop grace) 35 s after the upgrade began.
BASE = {**SMALL_PROMETHEUS, "timeout": "20s"}
SLOW = {
    **BASE,
    "retention": "2d",
    "config": {"server": {"podAnnotations": {"gunj.io/ready-after": "8s"}}},
}
RELEASE = "obs-prometheus"


def children_of(parent: int) -> list[int]:
    """The processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def start_slow_upgrade(
    engine: Engine, namespace: str, local_stack: Stack, tmp_path: Path, timeout: str = "20s"
) -> tuple[subprocess.Popen[bytes], Runner]:
    """`gunj apply` of the slow spec (with ``timeout``) in a process of its own, once its
    upgrade is pending; and the Helm process it runs, which the pending revision names."""
    base, slow = {**BASE, "timeout": timeout}, {**SLOW, "timeout": timeout}
    assert engine.apply(platform(namespace, prometheus=base)).result == "ready"
    spec = tmp_path / "slow.yaml"
    spec.write_text(yaml.safe_dump(platform(namespace, prometheus=slow).manifest()))
    env = cli_environment(local_stack, tmp_path, engine.helm.binary.path)
    gunj = subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", "apply", str(spec), "--cluster", "local"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while (stuck := engine.release(namespace, RELEASE)).state is not ReleaseState.LOCKED:
        assert time.monotonic() < deadline, "the upgrade never became pending"
        assert gunj.poll() is None, "gunj apply ended before it could be killed"
        time.sleep(0.1)
    helm = [runner_of(pid) for pid in children_of(gunj.pid)]
    assert stuck.runner is not None and stuck.runner in helm, (stuck.runner, helm)
    assert not stuck.runner_exited
    return gunj, stuck.runner


def wait_exited(runner: Runner) -> None:
    deadline = time.monotonic() + 30
    while not runner.exited():
        assert time.monotonic() < deadline, f"{runner.describe()} outlived gunj"
        time.sleep(0.1)


def apply_until_done(engine: Engine, spec: Any) -> tuple[Any, list[Any]]:
    """Apply until the outcome is not deferred; the outcome and every deferred one before."""
    deferred = []
    while (outcome := engine.apply(spec)).result == "deferred":
        deferred.append(outcome)
        assert len(deferred) < 60, [o.message for o in deferred]
        time.sleep(1)
    return outcome, deferred


@pytest.mark.parametrize("killed", ["gunj", "gunj-and-helm"])
def test_a_reconcile_killed_mid_upgrade_is_recovered_without_waiting_for_its_deadline(
    engine: Engine, namespace: str, local_stack: Stack, tmp_path: Path, killed: str
) -> None:
    """``gunj``: SIGKILL to gunj alone; its Helm gets SIGTERM through the parent-death signal
    (and marks the upgrade failed, or exits leaving it pending: both majors do either, by the
    phase the signal finds them in).
    ``gunj-and-helm``: SIGKILL to both, as a torn-down instance ends: always left pending."""
    gunj, helm = start_slow_upgrade(engine, namespace, local_stack, tmp_path)
    if killed == "gunj":
        os.kill(gunj.pid, signal.SIGKILL)
    else:
        os.killpg(gunj.pid, signal.SIGKILL)
    gunj.wait()
    wait_exited(helm)
    started = time.monotonic()

    stuck = engine.release(namespace, RELEASE)
    assert stuck.revision == 2
    outcome, deferred = apply_until_done(engine, platform(namespace, prometheus=SLOW))
    print(
        f"helm {engine.helm.major}, killed {killed}: left {stuck.status}, recovered "
        f"{time.monotonic() - started:.1f}s after the kill ({len(deferred)} deferred)"
    )

    assert outcome.result == "ready", outcome
    # Deferred only while the killed reconcile's Lease stood, never for its Helm's lock.
    assert all(not o.components or o.components[0].state != "Locked" for o in deferred)
    if stuck.status is ReleaseStatus.FAILED:  # Helm stopped by SIGTERM recorded the failure
        assert killed == "gunj"
        assert outcome.components[0].actions == ("rollback", "upgrade", "verify")
    else:
        assert stuck.status is ReleaseStatus.PENDING_UPGRADE and stuck.runner_exited
        assert outcome.components[0].actions == ("unlock", "rollback", "upgrade", "verify")
        unlocks = [m for _, reason, m in engine.events(namespace) if reason == "Unlock"]
        assert len(unlocks) == 1
        assert f"Helm process {helm.pid} on this machine that wrote it has exited" in unlocks[0]
    release = engine.release(namespace, RELEASE)
    assert (release.state, release.revision) == (ReleaseState.DEPLOYED, 4)
    assert release.content_digest == engine.status(namespace).components["prometheus"].values_digest


@pytest.fixture
def live_process() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "600"])
    yield process
    process.kill()
    process.wait()


def stamp(engine: Engine, namespace: str, runner: str) -> None:
    """Name ``runner`` as the pending revision's Helm process, with a deadline an hour away."""
    stuck = engine.release(namespace, RELEASE)
    deadline = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    engine.access.core.patch_namespaced_secret(
        stuck.history[-1].secret,
        namespace,
        {"metadata": {"labels": {RUNNER_LABEL: runner, DEADLINE_LABEL: str(deadline)}}},
    )


def test_a_pending_release_whose_helm_may_still_run_is_not_unlocked(
    engine: Engine,
    namespace: str,
    local_stack: Stack,
    tmp_path: Path,
    live_process: subprocess.Popen[bytes],
) -> None:
    # A deadline that does not matter here (an hour away is written below): time enough for
    # the rollback on a busy machine.
    gunj, _ = start_slow_upgrade(engine, namespace, local_stack, tmp_path, timeout="2m")
    os.killpg(gunj.pid, signal.SIGKILL)
    gunj.wait()
    spec = platform(namespace, prometheus={**SLOW, "timeout": "2m"})
    alive = runner_of(live_process.pid)
    assert alive is not None
    elsewhere = Runner("f" * 20, alive.pid + 1, alive.start)  # another machine's process

    for runner in (alive, elsewhere):
        stamp(engine, namespace, runner.label)
        deadline = time.monotonic() + 30
        while True:  # past the killed reconcile's Lease, the lock itself holds the platform
            outcome = engine.apply(spec)
            assert outcome.result == "deferred", outcome
            if outcome.components and outcome.components[0].state == "Locked":
                break
            assert time.monotonic() < deadline, outcome
            time.sleep(1)
        assert "its Helm may run until" in outcome.components[0].message
        assert engine.release(namespace, RELEASE).status is ReleaseStatus.PENDING_UPGRADE

    stamp(engine, namespace, alive.label)
    live_process.kill()
    live_process.wait()
    outcome = engine.apply(spec)
    assert outcome.result == "ready", outcome.components[0].message
    assert outcome.components[0].actions == ("unlock", "rollback", "upgrade", "verify")


def test_a_helm_stopped_at_gunjs_deadline_leaves_a_lock_released_at_once(
    engine: Engine, namespace: str, local_stack: Stack, tmp_path: Path
) -> None:
    """Helm applies its ``--timeout`` to each phase, so an operation can outlast it; gunj's
    deadline for the whole operation then stops Helm with SIGTERM. Here Helm's own timeout is
    longer than gunj's deadline, so the deadline is what stops it."""
    assert engine.apply(platform(namespace, prometheus=BASE)).result == "ready"
    values = tmp_path / "values.yaml"
    values.write_text(
        yaml.safe_dump({"server": {"podAnnotations": {"gunj.io/never-ready": "true"}}})
    )
    chart = http_chart(local_stack, "prometheus", "29.27.0")
    args = [
        "upgrade",
        RELEASE,
        *chart.as_arguments(),
        "--namespace",
        namespace,
        "--kubeconfig",
        str(local_stack.kubeconfig),
        "--timeout",
        "10m",
        *engine.helm.binary.wait_flags(True),
        "--reset-values",
        "--values",
        str(values),
    ]
    with pytest.raises(Exception, match="was stopped"):
        run_helm(
            engine.helm.binary.path,
            args,
            env=helm_environment(tmp_path / "helm-home", {}),
            timeout=timedelta(seconds=8),
            redactor=Redactor(),
            runner_label=RUNNER_LABEL,
        )

    left = engine.release(namespace, RELEASE)
    outcome = engine.apply(platform(namespace, prometheus=BASE))
    print(f"helm {engine.helm.major}: stopped at gunj's deadline, left {left.status}")

    assert outcome.result == "ready", outcome
    if left.status is ReleaseStatus.FAILED:  # Helm recorded the cancelled upgrade itself
        assert outcome.components[0].actions[0] == "rollback"
    else:
        assert left.status is ReleaseStatus.PENDING_UPGRADE and left.runner_exited
        assert outcome.components[0].actions[:2] == ("unlock", "rollback")


def test_a_persons_helm_left_pending_is_not_judged_by_the_labels_helm_copied_to_it(
    engine: Engine, namespace: str, local_stack: Stack, tmp_path: Path
) -> None:
    """A person's `helm upgrade` of a release gunj made carries gunj's labels, Helm copying them
    forward: its runner names gunj's Helm of the revision before, long exited, and its deadline
    that operation's. Killed, its lock waits as any Helm's without a deadline of gunj's."""
    assert engine.apply(platform(namespace, prometheus=BASE)).result == "ready"
    values = tmp_path / "values.yaml"
    values.write_text(
        yaml.safe_dump({"server": {"podAnnotations": {"gunj.io/never-ready": "true"}}})
    )
    chart = http_chart(local_stack, "prometheus", "29.27.0")
    person = subprocess.Popen(
        [
            str(engine.helm.binary.path),
            "upgrade",
            RELEASE,
            *chart.as_arguments(),
            "--namespace",
            namespace,
            "--kubeconfig",
            str(local_stack.kubeconfig),
            "--timeout",
            "10m",
            *engine.helm.binary.wait_flags(True),
            "--values",
            str(values),
        ],
        env=helm_environment(tmp_path / "helm-home", {}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while engine.release(namespace, RELEASE).state is not ReleaseState.LOCKED:
            assert time.monotonic() < deadline, "the upgrade never became pending"
            time.sleep(0.1)
    finally:
        person.kill()
        person.wait()

    stuck = engine.release(namespace, RELEASE)
    copied = stuck.labels.get(RUNNER_LABEL)
    print(f"helm {engine.helm.major}: the person's revision carries runner {copied}")
    assert copied is None or copied == stuck.label_history[0][RUNNER_LABEL]
    assert (stuck.runner, stuck.runner_exited, stuck.deadline) == (None, False, None)
    outcome = engine.apply(platform(namespace, prometheus={**BASE, "timeout": "5m"}))
    assert outcome.result == "deferred", outcome
    assert outcome.components[0].state == "Locked", outcome.components[0].message
    assert engine.release(namespace, RELEASE).status is ReleaseStatus.PENDING_UPGRADE

"""The Helm process that wrote a pending revision, named in its label, and the proof that it has
exited: real processes on this machine (running, reaped, a zombie, a reused pid), a process of
another machine (never judged), labels copied forward by Helm (never believed), and the label
stamped on a real process by the same path Helm is started through."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from shared.helm.models import ReleaseStatus
from shared.helm.process import run_helm
from shared.helm.releases import ReleaseState, ReleaseStore, StoredRevision, encode
from shared.helm.runner import Runner, runner_of, this_machine
from shared.labels import DEADLINE_LABEL, RUNNER_LABEL
from shared.redaction import Redactor

ELSEWHERE = "f" * 20


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "300"])
    yield process
    process.kill()
    process.wait()


def ended(pid: int) -> None:
    """Wait for ``pid`` to exit without collecting it: it stays a zombie."""
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def test_a_running_process_has_not_exited(sleeper: subprocess.Popen[bytes]) -> None:
    runner = runner_of(sleeper.pid)
    assert runner is not None
    assert runner.here() and not runner.exited()
    assert Runner.parse(runner.label) == runner
    assert len(runner.label) <= 63  # a Kubernetes label value


def test_a_process_that_ended_has_exited_whether_collected_or_not() -> None:
    process = subprocess.Popen(["true"])
    runner = runner_of(process.pid)
    assert runner is not None
    ended(process.pid)
    assert Path(f"/proc/{process.pid}").exists()  # a zombie: its pid is still taken
    assert runner.exited()
    process.wait()
    assert runner.exited()
    assert runner_of(process.pid) is None


def test_a_pid_held_by_a_process_started_at_another_time_is_not_the_runner(
    sleeper: subprocess.Popen[bytes],
) -> None:
    live = runner_of(sleeper.pid)
    assert live is not None
    assert Runner(live.machine, live.pid, live.start + 1).exited()


def test_a_process_of_another_machine_is_never_judged() -> None:
    process = subprocess.Popen(["true"])
    process.wait()
    elsewhere = Runner(ELSEWHERE, process.pid, 1)
    assert not elsewhere.here() and not elsewhere.exited()
    assert elsewhere.describe() == f"Helm process {process.pid} on another machine"


@pytest.mark.parametrize(
    "label",
    [
        "",
        "gunj",
        f"{ELSEWHERE}-1",
        f"{ELSEWHERE.upper()}-1-2",
        f"{ELSEWHERE}-x-2",
        f"f{ELSEWHERE}-1-2",
    ],
)
def test_a_label_gunj_did_not_write_names_no_runner(label: str) -> None:
    assert Runner.parse(label) is None


def test_the_label_names_the_process_the_command_runs_as() -> None:
    """What ``run_helm`` stamps is the identity of the process that runs the command itself
    (after ``exec``), read here from its own ``/proc/self/stat`` and arguments."""
    script = 'cat /proc/$$/stat; printf "%s\\n" "$@"'
    output = run_helm(
        Path("/bin/sh"),
        ["-c", script, "sh"],
        env=dict(os.environ),
        timeout=timedelta(seconds=30),
        redactor=Redactor(),
        runner_label=RUNNER_LABEL,
    )
    stat, *arguments = output.splitlines()
    pid, rest = int(stat.split()[0]), stat[stat.rindex(")") + 2 :].split()
    assert arguments == [
        "--labels",
        f"{RUNNER_LABEL}={Runner(this_machine(), pid, int(rest[19])).label}",
    ]
    stamped = Runner.parse(arguments[1].split("=", 1)[1])
    assert stamped is not None
    assert stamped.exited()  # it has ended by now


# --- the observation: which label is believed -------------------------------------------------


def revision(number: int, status: ReleaseStatus, labels: Mapping[str, str]) -> StoredRevision:
    created = datetime.now(UTC) - timedelta(seconds=10)
    payload = {
        "name": "obs-prometheus",
        "version": number,
        "info": {"status": status.value, "last_deployed": created.isoformat()},
        "chart": {"metadata": {"name": "prometheus", "version": "29.27.0"}},
        "config": {},
    }
    return StoredRevision(
        release="obs-prometheus",
        namespace="monitoring",
        revision=number,
        status=status,
        modified=created,
        secret=f"sh.helm.release.v1.obs-prometheus.v{number}",
        resource_version=str(number),
        payload=encode(payload),
        labels=dict(labels),
    )


def observe(*history: StoredRevision) -> Any:
    store = ReleaseStore(cast(Any, None))  # observing a history reads nothing from a cluster
    return store.observe_history("obs-prometheus", "monitoring", list(history))


def exited_runner() -> Runner:
    process = subprocess.Popen(["true"])
    runner = runner_of(process.pid)
    process.wait()
    assert runner is not None
    return runner


def test_a_pending_revision_whose_writer_exited_is_abandoned() -> None:
    first = revision(1, ReleaseStatus.DEPLOYED, {RUNNER_LABEL: exited_runner().label})
    writer = exited_runner()
    pending = revision(2, ReleaseStatus.PENDING_UPGRADE, {RUNNER_LABEL: writer.label})
    observed = observe(first, pending)
    assert observed.state is ReleaseState.LOCKED
    assert (observed.runner, observed.runner_exited) == (writer, True)


def test_a_pending_revision_whose_writer_runs_is_not(sleeper: subprocess.Popen[bytes]) -> None:
    writer = runner_of(sleeper.pid)
    assert writer is not None
    observed = observe(revision(1, ReleaseStatus.PENDING_INSTALL, {RUNNER_LABEL: writer.label}))
    assert (observed.runner, observed.runner_exited) == (writer, False)


def test_a_label_copied_forward_from_an_earlier_revision_is_not_believed() -> None:
    """Helm copies a release's labels to its next revision: a person's `helm upgrade` of a
    release gunj made carries gunj's runner label, naming a process long gone."""
    label = {RUNNER_LABEL: exited_runner().label}
    observed = observe(
        revision(1, ReleaseStatus.DEPLOYED, label),
        revision(2, ReleaseStatus.PENDING_UPGRADE, label),
    )
    assert observed.state is ReleaseState.LOCKED
    assert (observed.runner, observed.runner_exited) == (None, False)


@pytest.mark.parametrize("status", [ReleaseStatus.UNINSTALLING, ReleaseStatus.PENDING_ROLLBACK])
def test_a_revision_in_a_state_its_writer_did_not_leave_it_in_is_not_judged(
    status: ReleaseStatus,
) -> None:
    """An uninstall marks the revision an upgrade made, labels and all; a rollback copies an
    older revision's: the label names a process other than the one at work."""
    observed = observe(revision(1, status, {RUNNER_LABEL: exited_runner().label}))
    assert observed.state is ReleaseState.LOCKED
    assert (observed.runner, observed.runner_exited) == (None, False)


def test_a_deadline_copied_forward_from_an_earlier_revision_is_not_believed() -> None:
    """The same for the deadline: a person's upgrade soon after gunj's carries gunj's deadline,
    which may well lie after the new revision was created."""
    soon = str(int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()))
    copied = observe(
        revision(1, ReleaseStatus.DEPLOYED, {DEADLINE_LABEL: soon}),
        revision(2, ReleaseStatus.PENDING_UPGRADE, {DEADLINE_LABEL: soon}),
    )
    own = observe(
        revision(1, ReleaseStatus.DEPLOYED, {}),
        revision(2, ReleaseStatus.PENDING_UPGRADE, {DEADLINE_LABEL: soon}),
    )
    assert copied.deadline is None
    assert own.deadline == datetime.fromtimestamp(int(soon), UTC)

"""Running the Helm binary: one process per call, in a pinned environment, within one deadline for
the whole operation, its failure raised as a typed error with every known secret scrubbed.

Pinning: Helm runs with an environment of gunj's own. ``KUBECONFIG``, ``HELM_DRIVER`` and every
other ``HELM_*`` variable of the caller are dropped, and Helm's homes and storage driver are set,
so a person's shell or a function's configuration can never point a call at another cluster,
storage driver or repository cache.

Deadlines: Helm applies ``--timeout`` to each phase of an operation (every hook, the wait), so
one operation may run for a multiple of it. Here a call's ``timeout`` is the whole operation's:
the process is asked to stop when it passes (SIGTERM, on which Helm marks a cancelled install or
upgrade failed, or exits leaving it pending: its runner label then proves it gone), and killed
:data:`STOP_GRACE` later. Helm's own ``--timeout``
(:func:`helm_timeout`) runs out a little earlier, so a plain timeout is reported in Helm's words;
:func:`latest_end` is the moment after which no process started now can still run.

Parent death: a Helm process also gets SIGTERM when the Python process that started it dies: it
is started through util-linux's ``setpriv --pdeathsig`` where that exists (not through a
``preexec_fn``, which would run Python between fork and exec, unsafe in a process with gRPC's
threads).

Watching: a caller may pass a ``watch``, asked every :data:`WATCH_EVERY` while Helm runs. When
it answers with a reason (the cluster says the release cannot come up), Helm is stopped as at
its deadline, and the call raises :class:`~.errors.HelmBlocked` with that reason, without waiting
out a deadline that cannot help.

Runner label: an install or upgrade names the Helm process itself in a release label
(:mod:`.runner`), so a later reconcile can prove that a pending revision's writer has exited.
Its pid and start time are known only once it runs, so it is started through ``/bin/sh``, which
waits for the label on stdin and then execs Helm with it: the pid and start time stay the same
across ``exec``, and they are read from ``/proc`` while the shell waits.

Errors: stderr is scrubbed by the caller's :class:`~shared.redaction.Redactor`, then mapped to
its typed error by :func:`.errors.classify`; a process stopped at its deadline is a
:class:`~.errors.HelmTimeout`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from ..cache import cache_root
from ..redaction import Redactor
from .errors import HelmBlocked, HelmTimeout, classify
from .runner import runner_of, this_machine

DEFAULT_TIMEOUT = timedelta(minutes=5)
# Helm's own --timeout gets this head start on the deadline, so a plain timeout is reported in
# Helm's words rather than cut off.
HELM_MARGIN = timedelta(seconds=5)
# After SIGTERM, the time Helm has to record the cancelled operation before it is killed.
STOP_GRACE = timedelta(seconds=15)
# How often a watch (see above) is asked while Helm runs.
WATCH_EVERY = timedelta(seconds=2)
# Variables of the caller's environment that would redirect Helm elsewhere.
_LEAKING = ("KUBECONFIG",)

Watch = Callable[[], str | None]
"""Asked while Helm runs: a reason the operation cannot succeed, or None to let it go on."""


def helm_timeout(timeout: timedelta) -> str:
    """Helm's own ``--timeout`` for an operation that must end within ``timeout``."""
    return go_duration(max(timeout - HELM_MARGIN, timeout / 2))


def go_duration(duration: timedelta) -> str:
    milliseconds = int(duration.total_seconds() * 1000)
    if milliseconds <= 0:
        raise ValueError(f"timeout must be positive, got {duration}")
    return f"{milliseconds}ms"


def latest_end(timeout: timedelta, started: float | None = None) -> int:
    """The Unix time after which a Helm operation started now with ``timeout`` cannot run."""
    started = time.time() if started is None else started
    return int(started + (timeout + STOP_GRACE).total_seconds()) + 1


def helm_environment(home: Path | None, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment Helm runs in: the caller's, without anything that would point Helm
    elsewhere, with ``extra`` added, and Helm homes (under ``home``, else gunj's cache) and
    storage driver of gunj's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _LEAKING and not key.startswith("HELM_")
    }
    env.update(extra)
    home = home if home is not None else cache_root() / "helm"
    env["HELM_CACHE_HOME"] = str(home / "cache")
    env["HELM_CONFIG_HOME"] = str(home / "config")
    env["HELM_DATA_HOME"] = str(home / "data")
    env["HELM_DRIVER"] = "secret"
    return env


def run_helm(
    binary: Path,
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: timedelta,
    redactor: Redactor,
    watch: Watch | None = None,
    runner_label: str | None = None,
) -> str:
    """Run ``binary`` with ``args`` for at most ``timeout``; return stdout or raise the typed
    error for its stderr, scrubbed by ``redactor``. ``watch``: asked every
    :data:`WATCH_EVERY`; a reason it gives stops Helm (:class:`~.errors.HelmBlocked`).
    ``runner_label``: a release label key under which Helm's ``--labels`` names the Helm process
    itself (install and upgrade only)."""
    command = [str(binary), *args]
    # Where this machine cannot be told from another, no runner is named: locks wait as before.
    stamp = _stamp_runner(runner_label) if runner_label and this_machine() else []
    process = subprocess.Popen(
        [*_die_with_parent(), *stamp, *command],
        stdin=subprocess.PIPE if stamp else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    if stamp:
        _name_runner(process)
    deadline = time.monotonic() + timeout.total_seconds()
    while True:
        left = deadline - time.monotonic()
        step = left if watch is None else min(left, WATCH_EVERY.total_seconds())
        try:
            stdout, stderr = process.communicate(timeout=max(step, 0.0))
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                stderr = _stop(process)
                detail = f": {redactor(stderr.strip().splitlines()[-1])}" if stderr.strip() else ""
                raise HelmTimeout(
                    f"helm {args[0]} did not finish within {timeout} and was stopped{detail}",
                    command=command,
                ) from None
            reason = watch() if watch is not None else None
            if reason:
                stderr = _stop(process)
                reason = redactor(reason)
                raise HelmBlocked(
                    f"helm {args[0]} was stopped: {reason}",
                    command=command,
                    stderr=redactor(stderr),
                    reason=reason,
                ) from None
    if process.returncode != 0:
        raise classify(redactor(stderr), command=command)
    return stdout


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, SIGKILL :data:`STOP_GRACE` later if still running; what it wrote to stderr."""
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=STOP_GRACE.total_seconds())
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return stderr or ""


def _name_runner(process: subprocess.Popen[str]) -> None:
    """Give the waiting shell the label naming its process (the Helm it execs next), and close
    its stdin. No runner: the shell ended already, and reads nothing."""
    runner = runner_of(process.pid)
    stdin, process.stdin = process.stdin, None  # done with: communicate() leaves it alone
    assert stdin is not None  # noqa: S101 - started with a pipe
    with contextlib.suppress(BrokenPipeError):
        if runner is not None:
            stdin.write(f"{runner.label}\n")
        stdin.close()


def _stamp_runner(key: str) -> list[str]:
    """A prefix that reads the runner's label from stdin and execs the command with it as the
    release label ``key``; the shell exits without running the command when stdin is empty."""
    script = f'IFS= read -r runner || exit 125; exec "$@" --labels "{key}=$runner"'
    return ["/bin/sh", "-c", script, "gunj-helm"]


@functools.cache
def _die_with_parent() -> list[str]:
    """A prefix that makes Linux send the Helm process SIGTERM when gunj dies, so no Helm
    outlives the reconcile (and the Lease) that started it; none where setpriv is missing."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []

"""Background servers of the local stack: start detached, find again by pid file, stop.

A server outlives the command that started it (``gunj local up`` returns; the tests reuse it).
Its pid file records the pid and the process's start time, so a recycled pid is never mistaken
for it (the executable is no guide: launcher scripts ``exec`` java and the like).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold ``lock`` (a file, made if missing) against every other process that takes it."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class StartupError(RuntimeError):
    """A server did not come up; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError):
        return False


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _process_state(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) from /proc, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[0], int(fields[19])


def wait_reaped(pids: Iterable[int], timeout: float = 30) -> None:
    """Wait until none of ``pids`` is a zombie. A process killed a moment ago stays one until
    its parent (here often the init process) reaps it, and a tool that checks liveness by pid
    would take it for running."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while (state := _process_state(pid)) is not None and state[0] == "Z":
            if time.monotonic() > deadline:
                raise StartupError(f"process {pid} has ended but is not reaped after {timeout}s")
            time.sleep(0.2)


@dataclass(frozen=True)
class Daemon:
    """One named background server with its pid file and log in ``folder``."""

    name: str
    folder: Path

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def _pid_path(self) -> Path:
        return self.folder / f"{self.name}.pid"

    def pid(self) -> int | None:
        """The pid of the running server, or None when it is not running."""
        try:
            record = json.loads(self._pid_path.read_text())
            pid, started = int(record["pid"]), int(record["started"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        state = _process_state(pid)
        if state is None or state[0] == "Z" or state[1] != started:
            return None
        return pid

    def start(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        state = _process_state(process.pid)
        started = state[1] if state else 0
        self._pid_path.write_text(json.dumps({"pid": process.pid, "started": started}))
        return process.pid

    def wait_until(self, ready: Callable[[], bool], *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self.pid() is None:
                raise StartupError(
                    f"{self.name} exited while starting ({what}); log "
                    f"{self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.2)
        raise StartupError(
            f"{self.name} not ready after {timeout:.0f}s ({what}); log "
            f"{self.log_path}:\n{log_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 15) -> bool:
        """Stop the server and its process group; True when something was running."""
        pid = self.pid()
        if pid is None:
            self._pid_path.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self._pid_path.unlink(missing_ok=True)
        return True

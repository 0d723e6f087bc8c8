"""What a benchmark measures of the processes it runs and of the API server they talk to.

A side of a benchmark (Flux's controllers, gunj's served functions) is a set of sessions: each
daemon starts one (``Daemon.start`` uses ``start_new_session``), and whatever it runs (gunicorn's
worker, the Helm processes the functions start) stays in it. So the CPU time of a side is
read from ``/proc`` over every process of its sessions, the time of children that ended included
(``cutime``/``cstime`` count them once their parent reaps them), and its memory is the sum of
their resident sets, sampled while it works.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..kube import ClusterAccess

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.2
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ProcessFigures:
    """One process as ``/proc/<pid>/stat`` shows it."""

    pid: int
    session: int
    cpu_seconds: float
    """Its own user and system time and that of the children it reaped."""
    rss_bytes: int


def parse_stat(text: str) -> ProcessFigures:
    """The figures of one ``/proc/<pid>/stat`` line (the command, in parentheses, may hold
    spaces and parentheses itself: fields are counted from its last ``)``)."""
    pid = int(text.split(" ", 1)[0])
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state) of proc(5): session is field 6, utime..cstime 14..17, rss 24.
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return ProcessFigures(
        pid=pid,
        session=int(fields[3]),
        cpu_seconds=(utime + stime + cutime + cstime) / TICKS,
        rss_bytes=int(fields[21]) * PAGE,
    )


def processes() -> list[ProcessFigures]:
    """Every process readable now (one that ends while it is read is left out)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            found.append(parse_stat((entry / "stat").read_text()))
        except (OSError, ValueError, IndexError):
            continue
    return found


def in_sessions(sessions: Iterable[int]) -> list[ProcessFigures]:
    wanted = set(sessions)
    return [process for process in processes() if process.session in wanted]


@dataclass
class SessionMeter:
    """CPU seconds and peak resident memory of the processes of some sessions, from ``start``
    to ``stop`` (usable as a context manager)."""

    sessions: tuple[int, ...]
    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    samples: int = 0
    _started_cpu: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _cpu(self) -> float:
        return sum(process.cpu_seconds for process in in_sessions(self.sessions))

    def _sample(self) -> None:
        while True:
            rss = sum(process.rss_bytes for process in in_sessions(self.sessions))
            self.peak_rss_bytes = max(self.peak_rss_bytes, rss)
            self.samples += 1
            if self._stop.wait(SAMPLE_SECONDS):
                return

    def start(self) -> SessionMeter:
        self._started_cpu = self._cpu()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="session-meter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> SessionMeter:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.cpu_seconds = self._cpu() - self._started_cpu
        return self

    def __enter__(self) -> SessionMeter:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def metric_total(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    """The sum of every sample of metric ``name`` in Prometheus's text format whose labels
    include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        rest = line[len(name) :]
        found: dict[str, str] = {}
        if rest.startswith("{"):
            closing = rest.rindex("}")
            found = dict(LABEL.findall(rest[1:closing]))
            rest = rest[closing + 1 :]
        elif not rest.startswith(" "):
            continue  # another metric whose name starts with this one's
        if labels and any(found.get(key) != value for key, value in labels.items()):
            continue
        total += float(rest.split()[0])
    return total


def requests_served(access: ClusterAccess) -> float:
    """The API server's own count of the requests it has served (one more: this one)."""
    serialized = access.api.param_serialize(
        "GET", "/metrics", header_params={"Accept": "text/plain"}, auth_settings=["BearerToken"]
    )
    # The kubernetes client's raw response (urllib3's), untyped.
    answer: Any = access.api.call_api(*serialized)
    answer.read()
    return metric_total(answer.data.decode(), "apiserver_request_total")


def quiet_rate(access: ClusterAccess, seconds: float = 10.0) -> float:
    """Requests per second the API server serves while no benchmark works (its controllers,
    kwok): subtracted from a count taken over a benchmark's time."""
    first = requests_served(access)
    time.sleep(seconds)
    return (requests_served(access) - first - 1) / seconds

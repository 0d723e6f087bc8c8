"""The benchmarks' meters: a side's CPU seconds count every process of its sessions, children
that already ended included, and nothing outside them; its peak memory is what its processes
held together; metrics are summed from Prometheus's text format by name and labels."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from shared.localstack.meters import (
    PAGE,
    TICKS,
    SessionMeter,
    in_sessions,
    metric_total,
    parse_stat,
)
from shared.localstack.processes import Daemon

MIB = 1024 * 1024

# Burns about 0.6 CPU seconds in a child it waits for, then holds 64 MiB and burns as much
# again itself, then waits to be stopped.
WORKER = textwrap.dedent(
    """
    import subprocess, sys, time
    from pathlib import Path

    def burn(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    if sys.argv[1:] == ["child"]:
        burn(0.6)
        sys.exit(0)
    Path(sys.argv[1]).write_text("go")
    while Path(sys.argv[1]).read_text() != "start":
        time.sleep(0.05)
    subprocess.run([sys.executable, __file__, "child"], check=True)
    held = bytearray(64 * 1024 * 1024)
    for i in range(0, len(held), 4096):
        held[i] = 1
    burn(0.6)
    Path(sys.argv[1]).write_text("done")
    time.sleep(60)
    """
)


def _wait_for(path: Path, text: str) -> None:
    while path.read_text() != text:
        pass


def test_session_cpu_counts_reaped_children_and_memory_its_peak(tmp_path: Path) -> None:
    script, signal_file = tmp_path / "worker.py", tmp_path / "signal"
    script.write_text(WORKER)
    signal_file.write_text("")
    daemon = Daemon("worker", tmp_path)
    pid = daemon.start([sys.executable, str(script), str(signal_file)])
    try:
        _wait_for(signal_file, "go")
        meter = SessionMeter((pid,)).start()
        signal_file.write_text("start")
        _wait_for(signal_file, "done")
        meter.stop()
    finally:
        daemon.stop()

    assert meter.cpu_seconds >= 1.1  # the child's 0.6 and its own 0.6, less a clock tick
    assert meter.peak_rss_bytes >= 64 * MIB
    assert meter.samples >= 1


def test_processes_outside_the_sessions_are_not_counted(tmp_path: Path) -> None:
    daemon = Daemon("sleeper", tmp_path)
    pid = daemon.start([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with SessionMeter((pid,)) as meter:
            total = 0
            for number in range(3_000_000):  # this test's own process works meanwhile
                total += number * number
        members = in_sessions((pid,))
    finally:
        daemon.stop()

    assert total > 0
    assert meter.cpu_seconds < 0.2
    assert [member.pid for member in members] == [pid]


def test_stat_fields_are_counted_after_a_command_with_spaces_and_parentheses() -> None:
    fields = ["S", "1", "2", "77", *["0"] * 7, "150", "50", "25", "25", *["0"] * 6, "1000"]
    line = "4242 (a) (b c) " + " ".join(fields) + " 0 0\n"

    figures = parse_stat(line)

    assert figures.pid == 4242
    assert figures.session == 77
    assert figures.cpu_seconds == (150 + 50 + 25 + 25) / TICKS  # utime, stime, cutime, cstime
    assert figures.rss_bytes == 1000 * PAGE  # the file counts pages


def test_metric_totals_by_name_and_labels() -> None:
    text = textwrap.dedent(
        """
        # HELP apiserver_request_total Counter of apiserver requests.
        # TYPE apiserver_request_total counter
        apiserver_request_total{code="200",verb="GET",resource="pods"} 10
        apiserver_request_total{code="201",verb="POST",resource="pods"} 2.5
        apiserver_request_total{code="200",verb="LIST",resource="a,b\\"c"} 4
        apiserver_request_total_other{code="200"} 1000
        rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"} 7
        rest_client_requests_total 3
        """
    )

    assert metric_total(text, "apiserver_request_total") == 16.5
    assert metric_total(text, "apiserver_request_total", {"code": "200"}) == 14
    assert metric_total(text, "apiserver_request_total", {"verb": "POST", "code": "201"}) == 2.5
    assert metric_total(text, "apiserver_request_total", {"code": "500"}) == 0
    assert metric_total(text, "rest_client_requests_total") == 10
    assert metric_total(text, "missing_total") == 0

"""Background servers are found again by their pid file, and never confused with another
process that got the same pid."""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.localstack.chartserver import ChartRepositoryHandler
from shared.localstack.processes import Daemon, StartupError


def test_daemon_runs_stops_and_forgets(tmp_path: Path) -> None:
    daemon = Daemon("sleeper", tmp_path)
    pid = daemon.start([sys.executable, "-c", "import time; time.sleep(60)"])

    assert daemon.pid() == pid
    assert daemon.stop() is True
    assert daemon.pid() is None
    assert daemon.stop() is False


def test_recycled_pid_is_not_mistaken_for_the_daemon(tmp_path: Path) -> None:
    daemon = Daemon("sleeper", tmp_path)
    daemon.start([sys.executable, "-c", "import time; time.sleep(60)"])
    pid_file = tmp_path / "sleeper.pid"
    original = pid_file.read_text()
    try:
        record = json.loads(original)
        record["started"] -= 1  # the same pid, but a process that started at another time
        pid_file.write_text(json.dumps(record))

        assert daemon.pid() is None
    finally:
        pid_file.write_text(original)
        daemon.stop()


def test_server_that_exits_during_startup_reports_its_log(tmp_path: Path) -> None:
    daemon = Daemon("crasher", tmp_path)
    daemon.start([sys.executable, "-c", "print('bad flag --port'); raise SystemExit(3)"])

    with pytest.raises(StartupError, match="bad flag --port"):
        daemon.wait_until(lambda: False, timeout=10, what="never ready")


@pytest.fixture
def chart_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "index.yaml").write_text("apiVersion: v1\nentries: {}\n")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(ChartRepositoryHandler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_chart_server_answers_conditional_requests(chart_server) -> None:  # type: ignore[no-untyped-def]
    base, root = chart_server
    status, headers = _get(f"{base}/index.yaml")
    assert status == 200
    etag, modified = headers["ETag"], headers["Last-Modified"]

    assert _get(f"{base}/index.yaml", {"If-None-Match": etag})[0] == 304
    assert _get(f"{base}/index.yaml", {"If-Modified-Since": modified})[0] == 304

    (root / "index.yaml").write_text("apiVersion: v1\nentries: {changed: []}\n")
    status, headers = _get(f"{base}/index.yaml", {"If-None-Match": etag})
    assert status == 200
    assert headers["ETag"] != etag

"""Repositories served from a test, in a thread, on 127.0.0.1: the project's chart server over
a folder (with a log of the requests it answered), and one that answers every request with a
given failure. A server on 127.0.0.1 is reached over plain HTTP on a loopback address, which
gunj allows only for a configured mirror: :func:`as_mirrors` makes settings that say so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from shared.helm.repositories import RepositorySettings
from shared.localstack.chartserver import ChartRepositoryHandler


def as_mirrors(*urls: str, **settings: Any) -> RepositorySettings:
    """Repository settings with each of ``urls`` configured as a mirror (of itself)."""
    return RepositorySettings(mirrors={url: url for url in urls}, **settings)


@dataclass
class Served:
    url: str
    requests: list[tuple[str, int]] = field(default_factory=list)

    def count(self, suffix: str, status: int | None = None) -> int:
        return sum(
            1
            for path, code in self.requests
            if path.endswith(suffix) and (status is None or code == status)
        )


@contextmanager
def _serve(handler: Any) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chart_repository(root: Path, credentials: str | None = None) -> Iterator[Served]:
    served = Served("")

    class Logged(ChartRepositoryHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            served.requests.append((self.path, int(code) if str(code).isdigit() else 0))

    Logged.credentials = credentials
    with _serve(partial(Logged, directory=str(root))) as server:
        served.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield served


@contextmanager
def failing_repository(status: int, body: bytes = b"") -> Iterator[str]:
    class Failing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serve(Failing) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"

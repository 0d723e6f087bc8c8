"""Repositories served from a test, in a thread, on 127.0.0.1: the project's chart server over
a folder (with a log of the requests it answered), and one that answers every request with a
given failure. A server on 127.0.0.1 is reached over plain HTTP on a loopback address, which
gunj allows only for a configured mirror: :func:`as_mirrors` makes settings that say so."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Mapping
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
    authorizations: list[tuple[str, str | None]] = field(default_factory=list)
    """Each request's path and ``Authorization`` header (``None`` without one)."""

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
            served.authorizations.append((self.path, self.headers.get("Authorization")))

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


Answer = tuple[int, Mapping[str, str], bytes]


@contextmanager
def answering(answer: Callable[[str, str | None], Answer]) -> Iterator[Served]:
    """A server whose every GET is answered by ``answer(path, authorization)`` (status, headers,
    body); ``authorizations`` records what each request carried."""
    served = Served("")

    class Answering(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            authorization = self.headers.get("Authorization")
            served.authorizations.append((self.path, authorization))
            status, headers, body = answer(self.path, authorization)
            served.requests.append((self.path, status))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serve(Answering) as server:
        served.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield served


@dataclass
class Trickling:
    url: str
    responding: threading.Event
    """Set once a request is being answered."""
    stop: threading.Event
    """Set to end every answer (the client then sees its body broken off)."""


@contextmanager
def trickling_repository(interval: float) -> Iterator[Trickling]:
    """A server that answers 200 and then sends its body one byte per ``interval``, until
    stopped."""
    trickling = Trickling("", threading.Event(), threading.Event())

    class Trickle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(10**6))
            self.end_headers()
            trickling.responding.set()
            try:
                while not trickling.stop.wait(interval):
                    self.wfile.write(b"#")
                    self.wfile.flush()
            except OSError:
                pass  # the client gave up
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serve(Trickle) as server:
        trickling.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield trickling
        finally:
            trickling.stop.set()


@contextmanager
def silent_repository() -> Iterator[str]:
    """A port that accepts connections (the kernel completes them) and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(16)
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"


@dataclass
class Silent:
    url: str
    connected: threading.Event
    """Set once a client's connection was accepted."""


@contextmanager
def silent_server() -> Iterator[Silent]:
    """A port that accepts every connection and never answers, nor closes it: a server that
    hangs (an API server whose etcd is gone, a black-holing proxy)."""
    silent = Silent("", threading.Event())
    held: list[socket.socket] = []
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(64)
        listening.settimeout(0.2)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    connection, _ = listening.accept()
                except OSError:
                    continue
                held.append(connection)
                silent.connected.set()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        silent.url = f"https://127.0.0.1:{listening.getsockname()[1]}"
        try:
            yield silent
        finally:
            stop.set()
            thread.join()
            for connection in held:
                connection.close()

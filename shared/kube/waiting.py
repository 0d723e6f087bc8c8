"""Requests that keep a person waiting: once a command line asks for it
(:func:`announce_slow_requests`), each request to an API server that has not been answered
after a few seconds is named on stderr, once, so a silent or slow cluster is not mistaken for a
hung command. The functions never ask: their requests are not watched.

One daemon thread looks at the requests in flight a few times a second; a request only
registers and unregisters itself (a dictionary entry under a lock), so an unwatched process
pays nothing and a watched one next to nothing.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

LOOK_EVERY = 0.25


@dataclass
class _Request:
    what: str
    started: float
    announced: bool = False


class _Watch:
    def __init__(self, after: float, say: Callable[[str], None]) -> None:
        self.after = after
        self.say = say
        self.lock = threading.Lock()
        self.requests: dict[int, _Request] = {}
        self.numbers = itertools.count()

    def loop(self) -> None:
        while True:
            time.sleep(LOOK_EVERY)
            now = time.monotonic()
            with self.lock:
                due = [
                    r
                    for r in self.requests.values()
                    if not r.announced and now - r.started >= self.after
                ]
                for request in due:
                    request.announced = True
            for request in due:
                self.say(f"waiting for {request.what} ({now - request.started:.0f} s so far)")


_WATCH: _Watch | None = None


def announce_slow_requests(after: float, say: Callable[[str], None]) -> None:
    """From now on, ``say`` what each request still unanswered after ``after`` seconds waits
    for."""
    global _WATCH  # noqa: PLW0603 - one watch per process, set by its entry point
    if _WATCH is not None:
        return
    _WATCH = _Watch(after, say)
    threading.Thread(target=_WATCH.loop, name="slow-requests", daemon=True).start()


@contextmanager
def waited_on(what: str) -> Iterator[None]:
    """Mark the body as a request waiting for ``what`` (e.g. "the API server at https://...
    to answer GET /api/v1/namespaces")."""
    watch = _WATCH
    if watch is None:
        yield
        return
    number = next(watch.numbers)
    with watch.lock:
        watch.requests[number] = _Request(what, time.monotonic())
    try:
        yield
    finally:
        with watch.lock:
            del watch.requests[number]

"""When a function's work must stop: ``GUNJ_WORK_SECONDS`` after the event arrived (default
480 s, under Cloud Functions' 540 s for event functions and Pub/Sub's 600 s push deadline), so
the outcome is reported before the platform kills the instance.

The engine stops itself before then (no operation is started without the time it needs, each
request to a cluster is bounded), and :func:`run_until` makes sure of it: the work runs in a
thread of its own, and when the deadline passes first the handler stops waiting, so the event is
reported as transient and delivered again instead of holding its delivery (and the instance's
other deliveries) for as long as the work hangs. The thread left behind writes nothing more:
the work's Lease counts as lost from the deadline on (:class:`~shared.kube.lease.Lease`), so it
starts no operation and writes no status, and its requests end within their timeouts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from ..errors import GunjError

DEFAULT_WORK_SECONDS = 480.0

T = TypeVar("T")
log = logging.getLogger(__name__)


class Overran(GunjError):
    """The work did not finish by its deadline: the event is delivered again."""

    transient = True


def work_seconds(env: Mapping[str, str]) -> float:
    """``GUNJ_WORK_SECONDS`` (the default when it is not a number)."""
    try:
        return float(env.get("GUNJ_WORK_SECONDS", DEFAULT_WORK_SECONDS))
    except ValueError:
        return DEFAULT_WORK_SECONDS


def work_deadline(env: Mapping[str, str], started: float) -> float:
    """The time.monotonic() by which the work of an event that arrived at ``started`` ends."""
    return started + work_seconds(env)


def run_until(deadline: float, work: Callable[[], T], what: str, seconds: float) -> T:
    """``work()``'s result or exception, if it comes by ``deadline`` (time.monotonic());
    :class:`Overran`, naming ``what`` and the ``seconds`` it had, if it does not."""
    if time.monotonic() >= deadline:  # no time left: nothing is started
        raise _overran(what, seconds)
    done = threading.Event()
    lock = threading.Lock()
    outcome: list[T] = []
    failure: list[BaseException] = []
    gave_up = False

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed to the waiting thread, which raises it
            failure.append(error)
        finally:
            done.set()
            with lock:
                late = gave_up
            if late:
                ended = type(failure[0]).__name__ if failure else "finished"
                log.warning("%s: the work ended (%s) after its deadline", what, ended)

    worker = threading.Thread(target=run, name=f"work: {what}"[:60], daemon=True)
    worker.start()
    if not done.wait(max(deadline - time.monotonic(), 0.0)):
        with lock:
            gave_up = not done.is_set()
        if gave_up:
            raise _overran(what, seconds)
    if failure:
        raise failure[0]
    return outcome[0]


def _overran(what: str, seconds: float) -> Overran:
    return Overran(
        f"{what}: not finished within {seconds:g} s (GUNJ_WORK_SECONDS); stopped waiting, the "
        "event is delivered again"
    )

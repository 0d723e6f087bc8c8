"""When a function's work must stop: ``GUNJ_WORK_SECONDS`` after the event arrived (default
480 s, under Cloud Functions' 540 s for event functions and Pub/Sub's 600 s push deadline), so
the outcome is reported before the platform kills the instance."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_WORK_SECONDS = 480.0


def work_deadline(env: Mapping[str, str], started: float) -> float:
    """The time.monotonic() by which the work of an event that arrived at ``started`` ends."""
    try:
        seconds = float(env.get("GUNJ_WORK_SECONDS", DEFAULT_WORK_SECONDS))
    except ValueError:
        seconds = DEFAULT_WORK_SECONDS
    return started + seconds

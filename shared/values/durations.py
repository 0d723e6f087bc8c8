"""Prometheus-style durations (the spec's ``Duration``: ``30m``, ``1h``, ``3d``) as times."""

from __future__ import annotations

from datetime import timedelta

from .types import go_duration_seconds


def duration_of(text: str) -> timedelta:
    """The time ``text`` says: years, weeks and days first, then Go's units."""
    seconds = 0.0
    rest = text
    for unit, size in (("y", 31536000), ("w", 604800), ("d", 86400)):
        if unit in rest:
            head, rest = rest.split(unit, 1)
            seconds += float(head) * size
    return timedelta(seconds=seconds + (go_duration_seconds(rest) if rest else 0))

"""Times as Pub/Sub and Helm write them: RFC 3339 strings, ``Z`` for UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """The time in ``value``, or None when it is empty or not a time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None

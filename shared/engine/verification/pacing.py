"""How often verification looks again while it waits: soon at first, since a workload that only
rolled its pods or a probe pod that only asks one URL is often done within a fraction of a
second, then less often, so a long wait costs the API server about one request a second."""

from __future__ import annotations

import time
from collections.abc import Iterator

FIRST = 0.05
LONGEST = 1.0


def pauses(deadline: float) -> Iterator[float]:
    """Seconds to sleep before each next look: 0.05, 0.1, 0.2, ... up to 1, and never past
    ``deadline`` (a time.monotonic())."""
    pause = FIRST
    while True:
        yield min(pause, max(deadline - time.monotonic(), 0.0))
        pause = min(pause * 2, LONGEST)

"""Cloud Function ``resync``, triggered by Pub/Sub topic ``resync-ticks`` (Cloud Scheduler's tick,
every few minutes): every platform of every registered cluster asked to reconcile from the spec
its cluster holds, one ``platform-specs`` message each.

A thin entry point: :mod:`shared.handlers.resync` does the work. The handler is imported on the
first event, not at start.
"""

from __future__ import annotations

from typing import Any

import functions_framework


@functions_framework.cloud_event
def resync(event: Any) -> None:
    from shared.handlers.resync import handle

    handle(event)

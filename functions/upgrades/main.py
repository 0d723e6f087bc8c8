"""Cloud Function ``upgrades``, triggered by Pub/Sub topic ``upgrade-checks`` (Cloud Scheduler's
daily tick): the fleet's upgrade check.

A thin entry point: :mod:`shared.handlers.upgrades` checks every platform, publishes the reports
and proposes the automatic upgrades the specs allow. The handler is imported on the first
event, not at start.
"""

from __future__ import annotations

from typing import Any

import functions_framework


@functions_framework.cloud_event
def upgrades(event: Any) -> None:
    from shared.handlers.upgrades import handle

    handle(event)

"""Cloud Function ``rollback``, triggered by Pub/Sub topic ``platform-alerts``: a health alert
(a Cloud Monitoring incident, or an Alertmanager webhook body published by a relay).

A thin entry point: :mod:`shared.handlers.rollback` judges each alert through the engine and
reports the outcomes. Returning acknowledges the event; a transient outcome raises, so Pub/Sub
delivers it again. The handler is imported on the first event, not at start.
"""

from __future__ import annotations

from typing import Any

import functions_framework


@functions_framework.cloud_event
def rollback(event: Any) -> None:
    from shared.handlers.rollback import handle

    handle(event)

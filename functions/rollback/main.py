"""Cloud Function ``rollback``, triggered by Pub/Sub topic ``platform-alerts``: a health alert
(a Cloud Monitoring incident or an Alertmanager webhook).

A thin entry point: the event is decoded and recorded by :mod:`shared.events`; an event that is
not a Pub/Sub message is acknowledged so it is not redelivered.
"""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.events.receive import receive


@functions_framework.cloud_event
def rollback(event: Any) -> None:
    receive("rollback", event)

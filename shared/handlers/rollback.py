"""The ``rollback`` function: health alerts published to ``platform-alerts`` (a Cloud
Monitoring incident, or an Alertmanager webhook body a relay published). Each alert of a group
is judged on its own and reported on ``platform-events``; if any of them is transient (the
cluster unreachable, the platform busy), the message is delivered again, and the alerts judged
already are recognised as duplicates then."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from ..events.alerts import InvalidAlert, parse_alerts
from ..events.pubsub import InvalidEvent, from_cloud_event
from .alerts import judge
from .outcomes import Redeliver, report, request_headers, trace_of, unexpected

FUNCTION = "rollback"


def handle(event: Any, env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Judge every alert of the event; return their outcome documents (raises Redeliver when
    one of them is transient)."""
    env = os.environ if env is None else env
    started = time.monotonic()
    trace = trace_of(event, request_headers())
    # An invalid payload is reported under its message's id too, so that whoever published it
    # can find what became of it.
    message_id: str | None = None
    try:
        message = from_cloud_event(event)
        message_id = message.message_id
        alerts = parse_alerts(message.data)
    except (InvalidEvent, InvalidAlert) as error:
        alerts = []
        documents = [{"result": "invalid", "message": str(error), "transient": False}]
    except Exception as error:  # reported and delivered again, never lost without a trace
        alerts = []
        documents = [unexpected(error).to_json()]
    else:
        documents = [judge(alert, env, started) for alert in alerts]
        if not alerts:
            documents = [
                {"result": "ignored", "message": "no alerts in the payload", "transient": False}
            ]
    transient = []
    for document in documents:
        document["message_id"] = message_id
        try:
            report(FUNCTION, document, trace=trace, env=env)
        except Redeliver as error:
            transient.append(str(error))
    if transient:
        raise Redeliver("; ".join(transient))
    return documents

"""What every function does with an incoming event before its work: decode it and record it."""

from __future__ import annotations

from typing import Any

from .log import log_line
from .pubsub import InvalidEvent, PubSubMessage, from_cloud_event


def receive(function: str, event: Any) -> PubSubMessage | None:
    """The event's message, or None for an event that is not one (reported, then acknowledged:
    redelivering it could never succeed)."""
    try:
        message = from_cloud_event(event)
    except InvalidEvent as error:
        log_line(
            "ERROR",
            f"{function}: event refused: {error}",
            function=function,
            outcome="invalid-event",
        )
        return None
    log_line(
        "INFO",
        f"{function}: received message {message.message_id}",
        function=function,
        message_id=message.message_id,
        topic=message.topic,
        attributes=dict(message.attributes),
        bytes=len(message.data),
    )
    return message

"""Pub/Sub messages as the functions receive them.

Two envelopes carry the same message: Eventarc delivers a CloudEvent
``google.cloud.pubsub.topic.v1.messagePublished`` whose data is ``{"message": {...},
"subscription": ...}``; a push subscription posts the raw push JSON, which functions-framework
turns into the same CloudEvent without ``subscription``. Push JSON spells some fields twice
(``messageId`` and ``message_id``); either is accepted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..documents import KIB, DocumentError, DocumentLimits, load_document
from ..timestamps import parse_time

PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
SCHEDULE_DOCUMENT = DocumentLimits(
    max_bytes=64 * KIB, max_size=64 * KIB, max_nodes=10_000, max_depth=8, max_string=KIB
)
"""How a scheduler tick's JSON (which clusters, namespaces or platform it names) is read."""


class InvalidEvent(ValueError):
    """Not a Pub/Sub message: acknowledged and reported, never retried."""

    transient = False


@dataclass(frozen=True)
class PubSubMessage:
    message_id: str
    data: bytes = field(repr=False)
    attributes: Mapping[str, str]
    publish_time: datetime | None
    topic: str | None
    subscription: str | None

    def text(self) -> str:
        try:
            return self.data.decode()
        except UnicodeDecodeError as error:
            raise InvalidEvent(
                f"message {self.message_id}: data is not UTF-8 text (byte {error.start + 1})"
            ) from None

    def tick(self) -> dict[str, object]:
        """A scheduler tick's JSON object (empty data: ``{}``); DocumentError when it is none."""
        if not self.data.strip():
            return {}
        document = load_document(self.data, SCHEDULE_DOCUMENT, syntax="json")
        if not isinstance(document, dict):
            raise DocumentError("not a JSON object")
        return document


def _field(message: Mapping[str, Any], camel: str, snake: str) -> Any:
    return message.get(camel, message.get(snake))


def _topic(source: str | None) -> str | None:
    """``//pubsub.googleapis.com/projects/P/topics/T`` -> ``T``."""
    if source and "/topics/" in source:
        return source.rsplit("/topics/", 1)[1]
    return None


def decode(attributes: Mapping[str, Any], data: Any) -> PubSubMessage:
    """The message inside a CloudEvent, given the event's attributes and data."""
    event_type = attributes.get("type")
    if event_type and event_type != PUBLISHED:
        raise InvalidEvent(f"unexpected event type {event_type}")
    if not isinstance(data, Mapping) or not isinstance(data.get("message"), Mapping):
        raise InvalidEvent("the event carries no Pub/Sub message")
    message = data["message"]
    message_id = str(_field(message, "messageId", "message_id") or attributes.get("id") or "")
    if not message_id:
        raise InvalidEvent("the Pub/Sub message has no id")
    raw = message.get("data") or ""
    if not isinstance(raw, str):
        raise InvalidEvent(f"message {message_id}: data is not base64 text")
    try:
        payload = base64.b64decode(raw, validate=True) if raw else b""
    except (binascii.Error, ValueError):
        raise InvalidEvent(f"message {message_id}: data is not base64") from None
    message_attributes = message.get("attributes") or {}
    if not isinstance(message_attributes, Mapping):
        raise InvalidEvent(f"message {message_id}: attributes are not a mapping")
    return PubSubMessage(
        message_id=message_id,
        data=payload,
        attributes={str(k): str(v) for k, v in message_attributes.items()},
        publish_time=parse_time(_field(message, "publishTime", "publish_time")),
        topic=_topic(attributes.get("source")),
        subscription=data.get("subscription"),
    )


def from_cloud_event(event: Any) -> PubSubMessage:
    """The message of a ``cloudevents`` CloudEvent, as functions-framework passes it."""
    return decode(event.get_attributes(), event.data)

"""Kubernetes Events about an object (``kubectl describe`` and ``kubectl get events`` show
them): one per action gunj takes, Normal or Warning, with a short reason and a message."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from kubernetes import client

from .access import ClusterAccess
from .errors import ApiError

log = logging.getLogger(__name__)
EventType = Literal["Normal", "Warning"]
# The API server refuses longer event messages.
MESSAGE_LIMIT = 1024


@dataclass(frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str | None = None


class EventRecorder:
    def __init__(
        self,
        access: ClusterAccess,
        component: str,
        instance: str,
        scrub: Callable[[str], str],
    ) -> None:
        self.access = access
        self.component = component
        self.instance = instance
        self.scrub = scrub

    def scrubbing_with(self, scrub: Callable[[str], str]) -> EventRecorder:
        """The same recorder, scrubbing every message with ``scrub`` instead."""
        return EventRecorder(self.access, self.component, self.instance, scrub)

    def emit(self, about: ObjectRef, kind: EventType, reason: str, message: str) -> None:
        """Record an event; a failure to do so is logged, never raised (events are a report,
        not part of the work)."""
        now = datetime.now(UTC)
        text = self.scrub(message)
        if len(text) > MESSAGE_LIMIT:
            text = text[: MESSAGE_LIMIT - 1] + "…"
        body = client.CoreV1Event(
            metadata=client.V1ObjectMeta(
                name=f"{about.name}.{uuid.uuid4().hex[:16]}", namespace=about.namespace
            ),
            involved_object=client.V1ObjectReference(
                api_version=about.api_version,
                kind=about.kind,
                namespace=about.namespace,
                name=about.name,
                uid=about.uid,
            ),
            reason=reason,
            message=text,
            type=kind,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
            source=client.V1EventSource(component=self.component),
            reporting_component=self.component,
            reporting_instance=self.instance[:128],
        )
        try:
            self.access.core.create_namespaced_event(about.namespace, body)
        except ApiError as error:  # an Event is never worth failing for
            log.warning(
                "event %s about %s/%s not recorded: %s",
                reason,
                about.namespace,
                about.name,
                error.status,
            )


def object_events(access: ClusterAccess, namespace: str, name: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the Events about an object, oldest first."""
    items = access.core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name}"
    ).items
    items.sort(key=lambda event: str(event.metadata.creation_timestamp or ""))
    return [(event.type or "", event.reason or "", event.message or "") for event in items]

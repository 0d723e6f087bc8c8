"""Reporting an outcome: one JSON document on ``platform-events`` and one structured log line,
and the answer Pub/Sub gets (a transient outcome raises :class:`Redeliver`, so the event comes
back with backoff; anything else is acknowledged, so a poison message is not delivered forever).

The publisher is created on first use (the Pub/Sub client takes a while to import) and kept for
the warm instance's later events. It sends each outcome at once rather than batching, and waits
for the service's answer: a function's CPU is throttled as soon as it returns. A failure to
publish makes the event transient too, so an outcome is never lost.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from ..engine.outcome import Outcome
from ..errors import GunjError
from ..events.log import Severity, log_line
from ..telemetry.figures import figures
from .topics import EVENTS, Topics

PUBLISH_TIMEOUT = 30.0
SEVERITY: dict[str, Severity] = {
    "ready": "INFO",
    "corrected": "NOTICE",
    "drifted": "WARNING",
    "degraded": "WARNING",
    "duplicate": "INFO",
    "removed": "INFO",
    "rolled-back": "NOTICE",
    "paused": "INFO",
    "stale": "NOTICE",
    "progressing": "INFO",
    "deferred": "INFO",
    "stalled": "WARNING",
    "failed": "ERROR",
    "refused": "ERROR",
    "invalid": "ERROR",
    "error": "ERROR",
    "ignored": "NOTICE",
}


class Redeliver(GunjError):
    """The event's work is not done for a reason that may pass: Pub/Sub delivers it again."""

    transient = True


class Publisher:
    """Publishes JSON documents to the project's topics."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self._client: Any = None
        self._lock = threading.Lock()

    def _publisher(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud import pubsub_v1  # type: ignore[attr-defined]

                self._client = pubsub_v1.PublisherClient(
                    batch_settings=pubsub_v1.types.BatchSettings(max_messages=1, max_latency=0)
                )
            return self._client

    def publish(self, topic: str, document: Mapping[str, Any], **attributes: str) -> str:
        """Publish a JSON document (see :meth:`publish_raw`)."""
        data = json.dumps(document, default=str, sort_keys=True).encode()
        return self.publish_raw(topic, data, **attributes)

    def publish_raw(self, topic: str, data: bytes, **attributes: str) -> str:
        """Publish and wait for the message id, trying again for up to PUBLISH_TIMEOUT (Pub/Sub
        restarting, a topic being recreated); still failing, the event is transient."""
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        pause = 0.2
        while True:
            left = deadline - time.monotonic()
            try:
                future = self._publisher().publish(self.topics.path(topic), data, **attributes)
                return str(future.result(timeout=max(left, 1.0)))
            except Exception as error:  # the client's own exceptions: all mean "not published"
                if time.monotonic() + pause >= deadline:
                    raise Redeliver(
                        f"publishing to {self.topics.name(topic)} failed: {type(error).__name__}"
                    ) from None
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def unexpected(error: Exception) -> Outcome:
    """The outcome of an exception that nothing turned into one: a defect, or a library failing
    in a way not foreseen. Transient, so the event is delivered again (it may pass, and one that
    keeps failing ends on the dead-letter topic), and named by the exception's type only: its
    text may quote a token, a kubeconfig or a Secret's content."""
    return Outcome(
        "error",
        f"unexpected {type(error).__name__}; the event is delivered again",
        transient_error=True,
    )


_PUBLISHERS: dict[Topics, Publisher] = {}


def publisher(env: Mapping[str, str] | None = None) -> Publisher:
    topics = Topics.from_environment(env)
    if topics not in _PUBLISHERS:
        _PUBLISHERS[topics] = Publisher(topics)
    return _PUBLISHERS[topics]


def trace_field(trace: str | None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``logging.googleapis.com/trace`` for a trace id, when the request carried one."""
    if not trace:
        return {}
    env = os.environ if env is None else env
    project = Topics.from_environment(env).project
    return {"logging.googleapis.com/trace": f"projects/{project}/traces/{trace}"}


def report(
    function: str,
    document: Mapping[str, Any],
    *,
    trace: str | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Log the outcome (with its figures under ``telemetry``, which the log-based metrics
    read), publish it, and raise :class:`Redeliver` when it is transient."""
    result = str(document.get("result", "error"))
    log_line(
        SEVERITY.get(result, "ERROR"),
        f"{function}: {document.get('platform') or 'event'}: {result}: {document.get('message')}",
        function=function,
        **{k: v for k, v in document.items() if k not in {"message", "telemetry"}},
        telemetry=figures(function, document),
        **trace_field(trace, env),
    )
    publisher(env).publish(EVENTS, document, function=function, result=result)
    if document.get("transient"):
        raise Redeliver(f"{function}: {result}: {document.get('message')}")


def trace_of(event: Any, headers: Mapping[str, str] | None = None) -> str | None:
    """The trace id of a CloudEvent (its ``traceparent`` extension) or of the HTTP request
    that carried it (``traceparent`` or ``X-Cloud-Trace-Context``)."""
    candidates: list[str] = []
    read = getattr(event, "get_attributes", None)
    attributes: Mapping[str, Any] = read() if callable(read) else {}
    if attributes.get("traceparent"):
        candidates.append(str(attributes["traceparent"]))
    for name, value in (headers or {}).items():
        if name.lower() in {"traceparent", "x-cloud-trace-context"}:
            candidates.append(value)
    for value in candidates:
        parts = value.split("-")
        if len(parts) == 4 and len(parts[1]) == 32:  # W3C: version-trace-span-flags
            return parts[1]
        trace = value.split("/", 1)[0]
        if len(trace) == 32 and all(c in "0123456789abcdefABCDEF" for c in trace):
            return trace
    return None


def request_headers() -> dict[str, str]:
    """The headers of the HTTP request being served (functions-framework runs on Flask)."""
    try:
        import flask

        return dict(flask.request.headers) if flask.has_request_context() else {}
    except ImportError:  # pragma: no cover - functions-framework always brings Flask
        return {}

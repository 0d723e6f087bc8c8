"""gunj's metrics in Prometheus's text format for the local stack: a background process that
pulls every outcome the functions publish to ``platform-events`` (through its own
subscription, so outcomes published while it restarts wait for it) and serves the metrics of
:mod:`shared.telemetry.metrics` at ``http://127.0.0.1:PORT/metrics``.

Run as ``python -m shared.localstack.exporter PORT``; the emulator and project come from the
environment (``PUBSUB_EMULATOR_HOST``, ``GUNJ_PROJECT``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..handlers.topics import EVENTS, Topics
from ..telemetry.figures import figures
from ..telemetry.metrics import DURATION_BUCKETS, METRICS

SUBSCRIPTION = f"{EVENTS}-metrics"
# An outcome document larger than this is not one the functions publish: it is acknowledged
# and not counted.
MAX_DOCUMENT_BYTES = 1 << 20
# Short pulls rather than a streaming pull: a stream the exporter left when it was stopped
# holds what is published next until its ack deadline passes, on the emulator minutes.
PULL_MESSAGES = 100
PULL_SECONDS = 10.0


class Figures:
    """The metrics, in a registry of their own, counted from outcome documents."""

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Histogram,
            disable_created_metrics,
        )

        # The log-based metrics have no *_created series: neither do these.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self._metrics: dict[str, Any] = {}
        for metric in METRICS:
            labels = list(metric.labels)
            if metric.kind == "histogram":
                self._metrics[metric.name] = Histogram(
                    metric.name,
                    metric.description,
                    labels,
                    registry=self.registry,
                    buckets=DURATION_BUCKETS,
                )
            else:
                # prometheus_client adds the _total a counter's samples carry.
                self._metrics[metric.name] = Counter(
                    metric.name.removesuffix("_total"),
                    metric.description,
                    labels,
                    registry=self.registry,
                )

    def count(self, function: str, document: Mapping[str, Any]) -> None:
        found = figures(function, document)
        for metric in METRICS:
            if not metric.counts(found):
                continue
            child = self._metrics[metric.name].labels(**metric.label_values(found))
            if metric.value is not None:
                child.observe(float(found[metric.value]))
            else:
                child.inc()

    def count_message(self, data: bytes, attributes: Mapping[str, str]) -> bool:
        """Count one message of ``platform-events``; False when it is not an outcome."""
        if len(data) > MAX_DOCUMENT_BYTES:
            return False
        try:
            document = json.loads(data)
        except ValueError:
            return False
        if not isinstance(document, dict) or "result" not in document:
            return False
        self.count(attributes.get("function", ""), document)
        return True

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


def subscribe(topics: Topics) -> str:
    """The exporter's pull subscription to ``platform-events``, created when missing."""
    from google.api_core import exceptions
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    subscriber = pubsub_v1.SubscriberClient()
    path = str(subscriber.subscription_path(topics.project, topics.name(SUBSCRIPTION)))
    with contextlib.suppress(exceptions.AlreadyExists):
        subscriber.create_subscription(name=path, topic=topics.path(EVENTS))
    return path


def _retrying(subscribing: Callable[[], str]) -> str:
    """Subscribe once the topic is there again (gunj serve makes the topics anew)."""
    from google.api_core import exceptions

    while True:
        try:
            return subscribing()
        except exceptions.GoogleAPICallError:
            time.sleep(1.0)


def main(argv: list[str]) -> None:
    port = int(argv[0])
    try:
        import prometheus_client  # noqa: F401 - only whether it is installed
    except ImportError:
        # Not a dependency of the functions: the extra `local` brings it (and `dev`).
        sys.exit("/metrics needs prometheus-client: pip install 'gunj-functions[local]'")
    from google.api_core import exceptions
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]
    from prometheus_client import start_http_server

    counted = Figures()
    topics = Topics.from_environment()
    path = subscribe(topics)
    start_http_server(port, addr="127.0.0.1", registry=counted.registry)

    subscriber = pubsub_v1.SubscriberClient()
    print(f"serving gunj's metrics on http://127.0.0.1:{port}/metrics from {path}", flush=True)
    while True:  # until the process is stopped
        try:
            answer = subscriber.pull(
                subscription=path, max_messages=PULL_MESSAGES, timeout=PULL_SECONDS
            )
        except exceptions.DeadlineExceeded:
            continue  # nothing was published meanwhile
        except exceptions.NotFound:
            # The emulator restarted (it keeps nothing): subscribe again.
            path = _retrying(lambda: subscribe(topics))
            continue
        except exceptions.GoogleAPICallError:
            time.sleep(1.0)  # the emulator restarting: pull again
            continue
        received = list(answer.received_messages)
        for item in received:
            counted.count_message(item.message.data, dict(item.message.attributes))
        if received:
            # Unacknowledged (the emulator restarting), they come again and count again: a
            # counter may overcount then, never lose an outcome.
            with contextlib.suppress(exceptions.GoogleAPICallError):
                subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id for m in received])


if __name__ == "__main__":  # pragma: no cover - run as a daemon by gunj serve
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main(sys.argv[1:])

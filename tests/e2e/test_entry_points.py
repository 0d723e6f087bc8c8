"""The real entry points, served by functions-framework and fed by a push subscription of the
Pub/Sub emulator, as Cloud Functions runs them: each event is decoded and recorded in one
structured log line, without its data; an event that is not a Pub/Sub message is acknowledged."""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from google.cloud import pubsub_v1

from shared.localstack.functions import serve_function
from shared.localstack.processes import Daemon, free_port
from shared.localstack.stack import Stack

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def _log_lines(daemon: Daemon) -> list[dict[str, object]]:
    lines = []
    for line in daemon.log_path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize("function", ["reconcile", "rollback", "upgrades"])
def test_pushed_message_reaches_the_entry_point(
    function: str, local_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", local_stack.pubsub_host)
    port = free_port()
    daemon = serve_function(
        function,
        source=FUNCTIONS / function / "main.py",
        target=function,
        port=port,
        folder=tmp_path,
        env=dict(os.environ),
    )
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    suffix = uuid.uuid4().hex[:8]
    topic = publisher.topic_path(local_stack.pubsub_project, f"{function}-{suffix}")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(
        name=subscriber.subscription_path(local_stack.pubsub_project, f"{function}-{suffix}"),
        topic=topic,
        push_config=pubsub_v1.types.PushConfig(push_endpoint=f"http://127.0.0.1:{port}/"),
    )
    try:
        message_id = publisher.publish(
            topic, b"kind: ObservabilityPlatform  # never logged", cluster="prod-eu"
        ).result(timeout=30)
        deadline = time.monotonic() + 30
        received: list[dict[str, object]] = []
        while not received and time.monotonic() < deadline:
            received = [line for line in _log_lines(daemon) if line.get("message_id") == message_id]
            time.sleep(0.2)

        assert received, daemon.log_path.read_text()
        assert received[0]["severity"] == "INFO"
        assert received[0]["function"] == function
        assert received[0]["attributes"] == {"cluster": "prod-eu"}
        assert "never logged" not in daemon.log_path.read_text()
    finally:
        daemon.stop()
        publisher.delete_topic(topic=topic)


def test_event_that_is_not_a_message_is_acknowledged(tmp_path: Path) -> None:
    port = free_port()
    daemon = serve_function(
        "reconcile",
        source=FUNCTIONS / "reconcile" / "main.py",
        target="reconcile",
        port=port,
        folder=tmp_path,
        env=dict(os.environ),
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/",
            method="POST",
            data=json.dumps(
                {
                    "specversion": "1.0",
                    "id": "1",
                    "source": "//test",
                    "type": "google.cloud.pubsub.topic.v1.messagePublished",
                    "datacontenttype": "application/json",
                    "data": {"not": "a message"},
                }
            ).encode(),
            headers={"Content-Type": "application/cloudevents+json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            status = response.status
        refused = [line for line in _log_lines(daemon) if line.get("outcome") == "invalid-event"]
    finally:
        daemon.stop()

    assert status == 200
    assert refused and refused[0]["severity"] == "ERROR"

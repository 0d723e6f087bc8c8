"""The real Pub/Sub emulator: messages published to a topic can be pulled, and a push
subscription delivers them to a function served by the real functions-framework."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import pubsub_v1

from shared.localstack.functions import serve_function
from shared.localstack.processes import free_port
from shared.localstack.stack import Stack

RECORDER = Path(__file__).parent / "functions" / "recorder" / "main.py"


@pytest.fixture
def emulator(local_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", local_stack.pubsub_host)
    return local_stack


@pytest.fixture
def topic(emulator: Stack) -> Iterator[str]:
    publisher = pubsub_v1.PublisherClient()
    path = publisher.topic_path(emulator.pubsub_project, f"smoke-{uuid.uuid4().hex[:8]}")
    publisher.create_topic(name=path)
    yield path
    publisher.delete_topic(topic=path)


def test_published_message_can_be_pulled(emulator: Stack, topic: str) -> None:
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(
        emulator.pubsub_project, f"pull-{uuid.uuid4().hex[:8]}"
    )
    subscriber.create_subscription(name=subscription, topic=topic)

    pubsub_v1.PublisherClient().publish(topic, b"hello", cluster="local").result(timeout=30)
    response = subscriber.pull(subscription=subscription, max_messages=1, timeout=30)

    assert len(response.received_messages) == 1
    message = response.received_messages[0].message
    assert (message.data, dict(message.attributes)) == (b"hello", {"cluster": "local"})
    subscriber.acknowledge(
        subscription=subscription, ack_ids=[response.received_messages[0].ack_id]
    )


def test_push_subscription_delivers_cloudevent_to_function(
    emulator: Stack, topic: str, tmp_path: Path
) -> None:
    record = tmp_path / "events.jsonl"
    port = free_port()
    daemon = serve_function(
        "recorder",
        source=RECORDER,
        target="record",
        port=port,
        folder=tmp_path,
        env={**os.environ, "RECORD_TO": str(record)},
    )
    try:
        subscriber = pubsub_v1.SubscriberClient()
        subscription = subscriber.subscription_path(
            emulator.pubsub_project, f"push-{uuid.uuid4().hex[:8]}"
        )
        subscriber.create_subscription(
            name=subscription,
            topic=topic,
            push_config=pubsub_v1.types.PushConfig(push_endpoint=f"http://127.0.0.1:{port}/"),
        )
        published_id = (
            pubsub_v1.PublisherClient()
            .publish(topic, b'{"kind": "spec"}', cluster="local", generation="3")
            .result(timeout=30)
        )

        deadline = time.monotonic() + 30
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert record.exists(), f"nothing delivered; function log:\n{daemon.log_path.read_text()}"
        event = json.loads(record.read_text().splitlines()[0])
        message = event["data"]["message"]
        assert event["attributes"]["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
        assert base64.b64decode(message["data"]) == b'{"kind": "spec"}'
        assert message["attributes"] == {"cluster": "local", "generation": "3"}
        assert message["messageId"] == published_id
    finally:
        daemon.stop()

"""The reconcile function as Google Cloud runs it, on the local stack: served by the real
functions-framework, fed by a push subscription of the Pub/Sub emulator (quick retries, a
dead-letter topic), reporting to a ``platform-events`` topic of its own, and reaching clusters
through a registry of its own. Each test gets fresh topics (a prefix of its own) and events."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google.api_core import exceptions
from google.cloud import pubsub_v1

from shared.clusters import current_context_of
from shared.handlers import topics as names
from shared.localstack import serving
from shared.localstack.processes import Daemon, wait_reaped
from shared.localstack.stack import Stack

QUICK = serving.Delivery(ack_deadline=60, minimum_backoff=1, maximum_backoff=3, max_attempts=5)


@dataclass
class ServedFunction:
    function: str
    stack: Stack
    folder: Path
    env: dict[str, str]
    topics: names.Topics
    daemon: Daemon
    port: int
    events_subscription: str
    dead_letters: str
    reports_subscription: str = ""
    delivery: serving.Delivery = QUICK
    received: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def publish(self, data: bytes | str, **attributes: str) -> str:
        payload = data.encode() if isinstance(data, str) else data
        topic = self.topics.path(names.TRIGGERS[self.function])
        return str(self.publisher.publish(topic, payload, **attributes).result(timeout=30))

    def _pull(self, subscription: str) -> list[dict[str, Any]]:
        answer = self.subscriber.pull(subscription=subscription, max_messages=100, timeout=2)
        messages = list(answer.received_messages)
        if messages:
            self.subscriber.acknowledge(
                subscription=subscription, ack_ids=[m.ack_id for m in messages]
            )
        return [json.loads(m.message.data) for m in messages]

    def drain(self) -> None:
        self.received += self._pull(self.events_subscription)

    def fleet_report(self, timeout: float = 240) -> dict[str, Any]:
        """The next fleet summary on upgrade-reports (the platform reports before it are kept
        in ``reports``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for document in self._pull(self.reports_subscription):
                if document.get("kind") == "fleet":
                    return document
                self.reports.append(document)
        raise AssertionError(f"no fleet report within {timeout}s")

    def events_for(
        self,
        message_id: str,
        until: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 240,
    ) -> list[dict[str, Any]]:
        """The outcomes reported for ``message_id``, once ``until`` holds of them."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [e for e in self.received if e.get("message_id") == message_id]
            if until(mine):
                return mine
            if time.monotonic() > deadline:
                raise AssertionError(f"no such outcomes for {message_id} within {timeout}s: {mine}")
            self.drain()

    def final(self, message_id: str, timeout: float = 240) -> dict[str, Any]:
        events = self.events_for(
            message_id, lambda found: any(not e["transient"] for e in found), timeout
        )
        return next(e for e in events if not e["transient"])

    def dead_lettered(self, timeout: float = 5) -> list[bytes]:
        answer = self.subscriber.pull(
            subscription=self.dead_letters, max_messages=10, timeout=timeout
        )
        return [m.message.data for m in answer.received_messages]

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.daemon.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    continue
        return lines

    def kill(self) -> None:
        """SIGKILL the function's whole process group (functions-framework and any Helm it
        runs), as a torn-down instance ends."""
        pid = self.daemon.pid()
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)  # started by this process: reaped here
            wait_reaped([pid])

    def resubscribe(self) -> None:
        """Topics, push and test subscriptions again (after the emulator restarted empty)."""
        serving.ensure_topics(self.stack, self.topics)
        serving.ensure_push(self.stack, self.topics, self.function, self.endpoint, self.delivery)
        for subscription, topic in (
            (self.events_subscription, names.EVENTS),
            (self.reports_subscription, names.REPORTS),
        ):
            with contextlib.suppress(exceptions.AlreadyExists):
                self.subscriber.create_subscription(
                    name=subscription, topic=self.topics.path(topic)
                )

    def restart(self) -> None:
        self.daemon, self.port = serving.start_function(
            self.function, self.folder, self.env, self.port
        )

    def post(
        self,
        message_id: str,
        data: bytes,
        attributes: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> int:
        """Deliver a message the way a push subscription does (for deliveries Pub/Sub would
        make, such as a redelivery while the first is still handled); the HTTP status."""
        body = json.dumps(
            {
                "message": {
                    "data": base64.b64encode(data).decode(),
                    "attributes": attributes,
                    "messageId": message_id,
                    "publishTime": "2026-11-25T00:00:00Z",
                },
                "subscription": "projects/gunj-local/subscriptions/direct",
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the function on 127.0.0.1
            self.endpoint,
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)


def registry_file(stack: Stack, folder: Path, **extra: dict[str, Any]) -> Path:
    path = folder / "clusters.yaml"
    clusters = {
        "local": {
            "kubeconfig": str(stack.kubeconfig),
            "context": current_context_of(stack.kubeconfig),
            "aliases": ["kwok-gunj"],
        },
        **extra,
    }
    path.write_text(yaml.safe_dump(clusters))
    return path


@contextmanager
def served_function(
    function: str,
    stack: Stack,
    folder: Path,
    *,
    helm: Path,
    clusters: Path,
    delivery: serving.Delivery = QUICK,
    env: dict[str, str] | None = None,
    topics: names.Topics | None = None,
) -> Iterator[ServedFunction]:
    """The function under functions-framework; ``topics`` to share another's (several
    functions working together), else topics of its own."""
    os.environ["PUBSUB_EMULATOR_HOST"] = stack.pubsub_host
    topics = topics or names.Topics(stack.pubsub_project, f"t{uuid.uuid4().hex[:8]}")
    serving.ensure_topics(stack, topics)
    subscriber = pubsub_v1.SubscriberClient()
    tag = f"{topics.prefix}-{function}"
    events = subscriber.subscription_path(topics.project, f"{tag}-events-test")
    subscriber.create_subscription(name=events, topic=topics.path(names.EVENTS))
    reports = subscriber.subscription_path(topics.project, f"{tag}-reports-test")
    subscriber.create_subscription(name=reports, topic=topics.path(names.REPORTS))
    trigger = names.TRIGGERS[function]
    dead = subscriber.subscription_path(topics.project, topics.name(f"{trigger}-dead-letter-inbox"))
    function_env = serving.function_environment(
        stack,
        {
            "GUNJ_TOPIC_PREFIX": topics.prefix,
            "GUNJ_HELM_BINARY": str(helm),
            "GUNJ_CLUSTERS": str(clusters),
            "GUNJ_CACHE_DIR": str(folder / "cache"),
            # A fleet store of the functions' own (the emulator keeps projects apart): what one
            # test quarantines or rolls out is not held or gated in another's.
            "GUNJ_FLEET_PROJECT": f"fleet-{topics.prefix}",
            **(env or {}),
        },
    )
    (folder / function).mkdir(exist_ok=True)
    daemon, port = serving.start_function(function, folder / function, function_env)
    served = ServedFunction(
        function,
        stack,
        folder / function,
        function_env,
        topics,
        daemon,
        port,
        events,
        dead,
        reports,
    )
    serving.ensure_push(stack, topics, function, served.endpoint, delivery)
    try:
        yield served
    finally:
        served.daemon.stop()

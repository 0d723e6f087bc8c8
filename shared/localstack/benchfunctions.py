"""gunj's functions served for a benchmark: the real entry points under functions-framework, fed
by push subscriptions of the Pub/Sub emulator on topics of their own (a prefix per run, so
nothing else the stack serves sees its messages), reaching the local stack's cluster through a
registry of its own, reporting to a ``platform-events`` subscription the benchmark reads.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..clusters import current_context_of
from ..handlers import topics as names
from . import serving
from .processes import Daemon
from .stack import Stack

CLUSTER = "local"
PULL_SECONDS = 5.0


@dataclass
class BenchFunctions:
    stack: Stack
    topics: names.Topics
    daemons: dict[str, Daemon]
    events: str
    """The benchmark's subscription to ``platform-events``."""
    received: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()

    def sessions(self) -> tuple[int, ...]:
        """The functions' process sessions (functions-framework, its worker, the Helm it runs)."""
        pids = (daemon.pid() for daemon in self.daemons.values())
        return tuple(pid for pid in pids if pid is not None)

    def publish_spec(self, text: str, *, delete: bool = False) -> str:
        """Publish a spec to ``platform-specs`` for the local cluster, as ``gunj publish``
        does; the message id its outcomes carry."""
        attributes = {"cluster": CLUSTER, "source": "bench"}
        if delete:
            attributes["action"] = "delete"
        topic = self.topics.path(names.SPECS)
        future = self.publisher.publish(topic, text.encode(), **attributes)
        return str(future.result(timeout=30))

    def tick_resync(self, namespaces: Sequence[str]) -> str:
        """One tick on ``resync-ticks``, limited to ``namespaces``, as the scheduler sends."""
        data = json.dumps({"namespaces": list(namespaces)}).encode()
        return str(self.publisher.publish(self.topics.path(names.RESYNC), data).result(timeout=30))

    def pull(self) -> list[dict[str, Any]]:
        """The outcomes reported since the last pull (kept in ``received`` too)."""
        answer = self.subscriber.pull(
            subscription=self.events, max_messages=100, timeout=PULL_SECONDS
        )
        messages = list(answer.received_messages)
        if messages:
            self.subscriber.acknowledge(
                subscription=self.events, ack_ids=[m.ack_id for m in messages]
            )
        documents = [json.loads(m.message.data) for m in messages]
        self.received += documents
        return documents

    def wait_for(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float) -> bool:
        """Pull outcomes until ``done`` holds of all received so far; False when time ran out."""
        deadline = time.monotonic() + timeout
        while not done(self.received):
            if time.monotonic() > deadline:
                return False
            self.pull()
        return True

    def stop(self) -> None:
        for daemon in self.daemons.values():
            daemon.stop()


def final_outcomes(
    received: Sequence[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str | None]
) -> dict[str, Mapping[str, Any]]:
    """The last final (not transient) outcome per ``key`` (None leaves an outcome out)."""
    found: dict[str, Mapping[str, Any]] = {}
    for outcome in received:
        name = key(outcome)
        if name is not None and not outcome.get("transient"):
            found[name] = outcome
    return found


def serve_for_bench(
    stack: Stack,
    folder: Path,
    functions: Sequence[str] = ("reconcile", "resync"),
    extra_env: Mapping[str, str] | None = None,
) -> BenchFunctions:
    """Serve ``functions`` from the checkout on topics of a prefix of their own."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    topics = names.Topics(stack.pubsub_project, f"b{uuid.uuid4().hex[:6]}")
    serving.ensure_topics(stack, topics)
    subscriber = pubsub_v1.SubscriberClient()
    events = subscriber.subscription_path(topics.project, f"{topics.prefix}-events-bench")
    subscriber.create_subscription(name=events, topic=topics.path(names.EVENTS))
    folder.mkdir(parents=True, exist_ok=True)
    clusters = folder / "clusters.yaml"
    clusters.write_text(
        yaml.safe_dump(
            {
                CLUSTER: {
                    "kubeconfig": str(stack.kubeconfig),
                    "context": current_context_of(stack.kubeconfig),
                }
            }
        )
    )
    env = serving.function_environment(
        stack,
        {
            "GUNJ_TOPIC_PREFIX": topics.prefix,
            "GUNJ_CLUSTERS": str(clusters),
            "GUNJ_CACHE_DIR": str(folder / "function-cache"),
            **(extra_env or {}),
        },
    )
    daemons = {}
    for function in functions:
        (folder / function).mkdir(exist_ok=True)
        daemon, port = serving.start_function(function, folder / function, env)
        daemons[function] = daemon
        serving.ensure_push(stack, topics, function, f"http://127.0.0.1:{port}/")
    return BenchFunctions(stack, topics, daemons, str(events))

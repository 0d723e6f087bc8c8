"""``gunj serve``: the real entry points under functions-framework on 127.0.0.1, fed by the
Pub/Sub emulator as Google Cloud feeds them.

Every topic exists (``platform-specs``, ``platform-alerts``, ``upgrade-checks``,
``resync-ticks``, ``platform-events``, ``upgrade-reports``), each trigger topic has a
dead-letter topic with an inbox subscription, and each function a push subscription with the
Terraform module's ack deadline, retry backoff and maximum delivery attempts. The functions
reach the clusters of the registry (the local stack's is ``local``) and use the local chart
repositories as mirrors of the upstream ones. Setting up is idempotent: topics and
subscriptions that exist are kept, and functions are restarted so they run the checkout's
current code. Beside them, gunj's metrics are served in Prometheus's text format at
``/metrics``, counted from the outcomes on ``platform-events`` (:mod:`shared.telemetry`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clusters import alerttokens
from ..handlers import topics as names
from . import scheduler
from .functions import STARTUP_TIMEOUT, serve_function
from .processes import Daemon, free_port, port_open
from .stack import Stack

FUNCTIONS_SOURCE = Path(__file__).resolve().parents[2] / "functions"
WORK_SECONDS = 480
SERVED_FILE = "served.json"
TOKEN_FILE = "alertmanager-token"  # noqa: S105 - the name of the file that holds it
ALERTMANAGER = "alertmanager"
METRICS = "metrics"
METRICS_FILE = "metrics-port"


@dataclass(frozen=True)
class Delivery:
    """How a push subscription delivers: Terraform's settings unless a test asks for quicker
    retries."""

    ack_deadline: int = names.ACK_DEADLINE_SECONDS
    minimum_backoff: int = names.MINIMUM_BACKOFF_SECONDS
    maximum_backoff: int = names.MAXIMUM_BACKOFF_SECONDS
    max_attempts: int = names.MAX_DELIVERY_ATTEMPTS


@dataclass(frozen=True)
class Served:
    ports: dict[str, int]
    topics: names.Topics
    metrics_port: int | None = None

    def endpoint(self, function: str) -> str:
        return f"http://127.0.0.1:{self.ports[function]}/"

    @property
    def metrics(self) -> str | None:
        """Where gunj's metrics are served, in Prometheus's text format."""
        return f"http://127.0.0.1:{self.metrics_port}/metrics" if self.metrics_port else None


def _admin(stack: Stack) -> tuple[Any, Any]:
    os.environ["PUBSUB_EMULATOR_HOST"] = stack.pubsub_host
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


def ensure_topics(stack: Stack, topics: names.Topics) -> None:
    """Create every topic, dead-letter topic and inbox that is missing."""
    from google.api_core import exceptions

    publisher, subscriber = _admin(stack)
    wanted = [*names.TOPICS, *(f"{t}-dead-letter" for t in names.TRIGGERS.values())]
    for topic in wanted:
        with contextlib.suppress(exceptions.AlreadyExists):
            publisher.create_topic(name=topics.path(topic))
    for trigger in names.TRIGGERS.values():
        inbox = subscriber.subscription_path(
            topics.project, topics.name(f"{trigger}-dead-letter-inbox")
        )
        with contextlib.suppress(exceptions.AlreadyExists):
            subscriber.create_subscription(name=inbox, topic=topics.dead_letter(trigger))


def ensure_push(
    stack: Stack,
    topics: names.Topics,
    function: str,
    endpoint: str,
    delivery: Delivery = Delivery(),
) -> str:
    """The function's push subscription, created, or pointed at ``endpoint`` if it exists."""
    from google.api_core import exceptions

    _, subscriber = _admin(stack)
    trigger = names.TRIGGERS[function]
    path = subscriber.subscription_path(topics.project, topics.name(f"{trigger}-{function}"))
    try:
        subscriber.create_subscription(
            request={
                "name": path,
                "topic": topics.path(trigger),
                "push_config": {"push_endpoint": endpoint},
                "ack_deadline_seconds": delivery.ack_deadline,
                "retry_policy": {
                    "minimum_backoff": {"seconds": delivery.minimum_backoff},
                    "maximum_backoff": {"seconds": delivery.maximum_backoff},
                },
                "dead_letter_policy": {
                    "dead_letter_topic": topics.dead_letter(trigger),
                    "max_delivery_attempts": delivery.max_attempts,
                },
            }
        )
    except exceptions.AlreadyExists:
        subscriber.modify_push_config(
            request={"subscription": path, "push_config": {"push_endpoint": endpoint}}
        )
    return str(path)


def function_environment(stack: Stack, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        **stack.environment(),
        "GUNJ_PROJECT": stack.pubsub_project,
        "GUNJ_HELM_BINARY": str(stack.helm[3]),
        "GUNJ_WORK_SECONDS": str(WORK_SECONDS),
        **(extra or {}),
    }
    env.pop("KUBECONFIG", None)  # clusters come from the registry only
    return env


def start_function(
    function: str,
    folder: Path,
    env: Mapping[str, str],
    port: int | None = None,
    signature: str = "cloudevent",
) -> tuple[Daemon, int]:
    """(Re)start one function under functions-framework; its daemon and port."""
    daemon = Daemon(f"function-{function}", folder)
    daemon.stop()  # run the checkout's current code
    port = port or free_port()
    serve_function(
        function,
        source=FUNCTIONS_SOURCE / function / "main.py",
        target=function,
        port=port,
        folder=folder,
        env=env,
        signature_type=signature,
    )
    return daemon, port


def alertmanager_token(stack: Stack) -> str:
    """The local stack's Alertmanager token (made once, kept private in the stack's folder):
    ``gunj local up`` lists its hash in the ``alertTokens`` of the cluster ``local``."""
    path = stack.folder / TOKEN_FILE
    if not path.is_file():
        path.touch(mode=0o600)
        path.write_text(alerttokens.mint())
    return path.read_text().strip()


def start_metrics(folder: Path, env: Mapping[str, str], port: int | None = None) -> int:
    """(Re)start the metrics exporter (its subscription to platform-events is made or kept);
    its port, recorded in ``folder`` (the stack's)."""
    exporter = Daemon(METRICS, folder)
    exporter.stop()
    port = port or free_port()
    exporter.start(
        [sys.executable, "-m", "shared.localstack.exporter", str(port)],
        env=dict(env),
        cwd=Path(__file__).resolve().parents[2],
    )
    exporter.wait_until(
        lambda: port_open(port), timeout=STARTUP_TIMEOUT, what=f"metrics on port {port}"
    )
    (folder / METRICS_FILE).write_text(str(port))
    return port


def serve(stack: Stack, extra_env: Mapping[str, str] | None = None) -> Served:
    topics = names.Topics(stack.pubsub_project)
    ensure_topics(stack, topics)
    env = function_environment(stack, extra_env)
    ports = {
        function: start_function(function, stack.folder, env)[1] for function in names.TRIGGERS
    }
    ports[ALERTMANAGER] = start_function(ALERTMANAGER, stack.folder, env, signature="http")[1]
    served = Served(ports, topics, start_metrics(stack.folder, env))
    for function in names.TRIGGERS:
        ensure_push(stack, topics, function, served.endpoint(function))
    (stack.folder / SERVED_FILE).write_text(json.dumps(ports))
    return served


def reconnect(stack: Stack) -> Served | None:
    """After the emulator restarted (it keeps nothing), give functions that still run their
    topics and push subscriptions again; None when no function is served."""
    record = stack.folder / SERVED_FILE
    if not record.is_file():
        return None
    ports = {str(k): int(v) for k, v in json.loads(record.read_text()).items()}
    if any(Daemon(f"function-{f}", stack.folder).pid() is None for f in ports):
        return None
    topics = names.Topics(stack.pubsub_project)
    ensure_topics(stack, topics)
    # The exporter subscribes again by itself once platform-events is back.
    recorded = stack.folder / METRICS_FILE
    running = Daemon(METRICS, stack.folder).pid() is not None and recorded.is_file()
    served = Served(ports, topics, int(recorded.read_text()) if running else None)
    for function in names.TRIGGERS:
        ensure_push(stack, topics, function, served.endpoint(function))
    return served


def stop(stack_folder: Path) -> list[str]:
    stopped = [
        f"function-{function}"
        for function in (*names.TRIGGERS, ALERTMANAGER)
        if Daemon(f"function-{function}", stack_folder).stop()
    ]
    if Daemon(METRICS, stack_folder).stop():
        stopped.append(METRICS)
    ticker = scheduler.daemon(stack_folder, names.RESYNC)
    return [*stopped, ticker.name] if ticker.stop() else stopped

"""Alert to rolled back: how long from a health alert about a component gunj just upgraded to the
component back at its last good revision, verified, with the outcome reported.

    .venv/bin/python bench/bench_alert_rollback.py [--rounds 3]

Per round, in a fresh namespace: Prometheus (a small one) installed at chart 29.26.0, then
upgraded to 29.27.0 by the engine. Then a firing Alertmanager alert naming the component:

(a) published to ``platform-alerts`` on the Pub/Sub emulator, delivered by a push subscription
    to the real ``rollback`` function under functions-framework: timed from the publish to its
    outcome on ``platform-events``;
(b) after the quarantine is lifted and the upgrade made again, posted to the real
    ``alertmanager`` HTTP function: timed from the POST to its answer.

Each rollback is checked: result ``rolled-back`` and the release back at chart 29.26.0. The
functions run Helm 3 against the local cluster (``local``) with topics of their own. Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.cli.local import register
from shared.clusters import current_context_of
from shared.clusters.alerttokens import mint, token_hash
from shared.engine.reconciler import Reconciler
from shared.engine.request import Request
from shared.engine.settings import EngineSettings
from shared.handlers import topics as names
from shared.helm.releases import ReleaseStore
from shared.helm.repositories import RepositorySettings
from shared.kube import ClusterAccess
from shared.localstack import serving
from shared.localstack import stack as localstack
from shared.localstack.processes import Daemon
from shared.values.validation import load_platform

GOOD, CHANGED = "29.26.0", "29.27.0"
SPEC = """\
apiVersion: observability.io/v1beta1
kind: ObservabilityPlatform
metadata: {{name: obs, namespace: {namespace}}}
spec:
  prometheus:
    chartVersion: "{version}"
    storage: {{enabled: false}}
    alertmanager: {{enabled: false}}
    nodeExporter: {{enabled: false}}
    kubeStateMetrics: {{enabled: false}}
"""


class Misbehaved(RuntimeError):
    """A step did not end as it must: reported as it was."""


def alert_body(namespace: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    labels = {
        "alertname": "PrometheusNotReady",
        "gunj_cluster": "local",
        "gunj_platform": f"{namespace}/obs",
        "gunj_component": "prometheus",
    }
    return {
        "version": "4",
        "status": "firing",
        "receiver": "gunj",
        "groupLabels": {"alertname": labels["alertname"]},
        "commonLabels": {},
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "Prometheus is not ready"},
                "startsAt": now,
                "fingerprint": uuid.uuid4().hex[:16],
            }
        ],
    }


class Bench:
    def __init__(self, running: localstack.Stack, work: Path) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        os.environ["PUBSUB_EMULATOR_HOST"] = running.pubsub_host
        self.running = running
        self.access = ClusterAccess(running.kubeconfig)
        self.reconciler = Reconciler(
            "local",
            self.access,
            EngineSettings(helm_binary=running.helm[3], cache=work / "engine-cache"),
            repositories=RepositorySettings.from_environment(running.environment()),
        )
        self.topics = names.Topics(running.pubsub_project, f"bench{uuid.uuid4().hex[:6]}")
        serving.ensure_topics(running, self.topics)
        clusters = work / "clusters.yaml"
        context = current_context_of(running.kubeconfig)
        self.token = mint()
        local = {
            "kubeconfig": str(running.kubeconfig),
            "context": context,
            "alertTokens": [token_hash(self.token)],
        }
        clusters.write_text(yaml.safe_dump({"local": local}))
        env = serving.function_environment(
            running,
            {
                "GUNJ_TOPIC_PREFIX": self.topics.prefix,
                "GUNJ_CLUSTERS": str(clusters),
                "GUNJ_CACHE_DIR": str(work / "function-cache"),
            },
        )
        self.daemons: list[Daemon] = []
        for function, signature in (("rollback", "cloudevent"), (serving.ALERTMANAGER, "http")):
            (work / function).mkdir()
            daemon, port = serving.start_function(function, work / function, env, None, signature)
            self.daemons.append(daemon)
            if function == "rollback":
                endpoint = f"http://127.0.0.1:{port}/"
                serving.ensure_push(running, self.topics, function, endpoint)
            else:
                self.webhook = f"http://127.0.0.1:{port}/"
        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()
        self.events = self.subscriber.subscription_path(
            self.topics.project, f"{self.topics.prefix}-bench-events"
        )
        self.subscriber.create_subscription(name=self.events, topic=self.topics.path(names.EVENTS))
        self.samples: dict[str, list[float]] = {}

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.stop()

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)

    def apply(self, namespace: str, version: str, actions: tuple[str, ...]) -> None:
        outcome = self.reconciler.apply(
            load_platform(SPEC.format(namespace=namespace, version=version)),
            Request(source="bench"),
        )
        done = outcome.components[0].actions if outcome.components else ()
        if outcome.result != "ready" or done != actions:
            raise Misbehaved(f"apply {version}: {json.dumps(outcome.to_json(), default=str)}")

    def check_rolled_back(self, namespace: str, document: dict[str, Any], path: str) -> None:
        release = ReleaseStore(self.access).observe("obs-prometheus", namespace)
        if document.get("result") != "rolled-back" or release.chart_version != GOOD:
            raise Misbehaved(f"{path}: {json.dumps(document, default=str)}")

    def outcome_of(self, message_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.subscriber.pull(subscription=self.events, max_messages=50, timeout=1)
            received = list(answer.received_messages)
            if received:
                self.subscriber.acknowledge(
                    subscription=self.events, ack_ids=[m.ack_id for m in received]
                )
            for message in received:
                document = json.loads(message.message.data)
                if document.get("message_id") == message_id and not document.get("transient"):
                    return dict(document)
        raise Misbehaved(f"no outcome for alert message {message_id} within {timeout}s")

    def round(self) -> None:
        namespace = f"bench-alert-{uuid.uuid4().hex[:6]}"
        self.access.ensure_namespace(namespace)
        try:
            self.apply(namespace, GOOD, ("install", "verify"))
            self.apply(namespace, CHANGED, ("upgrade", "verify"))

            # (a) through Pub/Sub
            body = json.dumps(alert_body(namespace)).encode()
            topic = self.topics.path(names.TRIGGERS["rollback"])
            started = time.perf_counter()
            message_id = self.publisher.publish(topic, body).result(timeout=30)
            document = self.outcome_of(message_id)
            self.add("pubsub", time.perf_counter() - started)
            self.add("pubsub function", float(document["duration"]))
            self.check_rolled_back(namespace, document, "Pub/Sub")

            # (b) over HTTP, after the quarantine is lifted and the change made again
            lifted = self.reconciler.unquarantine(namespace, "obs", "prometheus", CHANGED)
            if lifted.result == "error":
                raise Misbehaved(f"unquarantine: {lifted.message}")
            self.apply(namespace, CHANGED, ("upgrade", "verify"))
            request = urllib.request.Request(  # noqa: S310 - the function on 127.0.0.1
                self.webhook,
                data=json.dumps(alert_body(namespace)).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self.token}",
                },
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=300) as answer:  # noqa: S310
                outcomes = json.loads(answer.read())["outcomes"]
            self.add("http", time.perf_counter() - started)
            self.add("http function", float(outcomes[0]["duration"]))
            self.check_rolled_back(namespace, outcomes[0], "HTTP")
        finally:
            self.access.delete_namespace(namespace)


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    running = localstack.up()
    register(running)
    with tempfile.TemporaryDirectory(prefix="bench-alert-") as work:
        bench = Bench(running, Path(work))
        try:
            for index in range(rounds):
                print(f"round {index + 1} of {rounds}", file=sys.stderr, flush=True)
                bench.round()
        finally:
            bench.close()
    s = bench.samples
    print(
        f"\nmedian of {rounds} rounds, local cluster (kwok), Helm 3; prometheus {CHANGED} -> {GOOD}"
    )
    rows = [
        ("(a) Pub/Sub: publish -> outcome on platform-events", ms(s["pubsub"])),
        ("    of which the rollback function's own time", ms(s["pubsub function"])),
        (
            "    delivery (push subscription, outcome publish and pull)",
            ms([a - b for a, b in zip(s["pubsub"], s["pubsub function"], strict=True)]),
        ),
        ("(b) HTTP: POST to the alertmanager function -> its answer", ms(s["http"])),
        ("    of which the function's own time", ms(s["http function"])),
    ]
    for label, figure in rows:
        print(f"  {label:<64}{figure:>10}")
    print(
        "\nthe function's own time: find the component (gunj labels), judge the alert against "
        "the bake window,\nhelm rollback --wait to the last good revision, verification (workloads "
        "Ready, probe pod,\nHelm tests), quarantine, status and Events."
    )


if __name__ == "__main__":
    main()

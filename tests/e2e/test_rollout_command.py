"""``gunj rollout`` against the Firestore and Pub/Sub emulators, with three registered clusters
in the waves canary, early and main: ``start`` publishes the spec to the first wave's cluster
only; ``status`` names what the wave waits for; once the platform's summary says it reconciled
the spec, the step the reconcile function takes after its outcome publishes the next wave; a
paused rollout publishes nothing; ``abort`` ends it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cli.main import main
from shared.clusters import ClusterRegistry
from shared.engine.admission import spec_digest
from shared.fleet.progress import summary_key
from shared.fleet.store import Store
from shared.handlers.rollout_steps import after_outcome
from shared.localstack.stack import PUBSUB_PROJECT
from shared.values.validation import load_platform

SPEC = {
    "apiVersion": "observability.io/v1beta1",
    "kind": "ObservabilityPlatform",
    "metadata": {"name": "obs", "namespace": "monitoring"},
    "spec": {"tempo": {"retention": "72h"}},
}


class Topic:
    """platform-specs in the emulator, with a subscription to read what was published."""

    def __init__(self, project: str, prefix: str) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        self.prefix = prefix
        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()
        self.topic = self.publisher.topic_path(project, f"{prefix}-platform-specs")
        self.subscription = self.subscriber.subscription_path(project, f"{prefix}-specs-read")
        self.publisher.create_topic(name=self.topic)
        self.subscriber.create_subscription(name=self.subscription, topic=self.topic)

    def published(self) -> list[tuple[dict[str, str], str]]:
        """Every message published since the last call: (attributes, data)."""
        from google.api_core import exceptions

        got: list[tuple[dict[str, str], str]] = []
        while True:
            try:
                answer = self.subscriber.pull(
                    subscription=self.subscription, max_messages=20, timeout=3, retry=None
                )
            except exceptions.DeadlineExceeded:
                return got
            if not answer.received_messages:
                return got
            self.subscriber.acknowledge(
                subscription=self.subscription,
                ack_ids=[m.ack_id for m in answer.received_messages],
            )
            got += [
                (dict(m.message.attributes), m.message.data.decode())
                for m in answer.received_messages
            ]


@pytest.fixture
def rollout_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fleet_store: Store,
    pubsub_emulator: str,
) -> Iterator[tuple[Topic, dict[str, str]]]:
    registry_file = tmp_path / "clusters.yaml"
    registry = ClusterRegistry.load({"GUNJ_CLUSTERS": str(registry_file)})
    for name, wave in (("local", "canary"), ("local-2", "early"), ("local-3", "main")):
        registry.register(name, tmp_path / f"{name}.yaml", name, wave=wave)
    # The emulator serves the stack's project only: the test's topics are its own by their prefix.
    prefix = f"rollout-{uuid.uuid4().hex[:8]}"
    env = {
        "GUNJ_CLUSTERS": str(registry_file),
        "GUNJ_FLEET_PROJECT": fleet_store.settings.project,
        "GUNJ_PROJECT": PUBSUB_PROJECT,
        "GUNJ_TOPIC_PREFIX": prefix,
        "PUBSUB_EMULATOR_HOST": pubsub_emulator,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield Topic(PUBSUB_PROJECT, prefix), env


def gunj(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()  # what came before (the functions' log lines) is not the command's
    code = main(list(argv))
    captured = capsys.readouterr()
    out = captured.out
    return code, json.loads(out) if out.strip().startswith("{") else out + captured.err


def test_a_spec_rollout_goes_out_one_wave_at_a_time(
    rollout_env: tuple[Topic, dict[str, str]],
    fleet_store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic, env = rollout_env
    text = yaml.safe_dump(SPEC)
    (tmp_path / "spec.yaml").write_text(text)
    project = env["GUNJ_PROJECT"]

    code, started = gunj(
        capsys,
        "rollout",
        "start",
        str(tmp_path / "spec.yaml"),
        "--project",
        project,
        "--topic-prefix",
        topic.prefix,
        "-o",
        "json",
    )

    assert code == 0, started
    rollout_id = started["id"]
    assert [(w["name"], w["state"]) for w in started["waves"]] == [
        ("canary", "applying"),
        ("early", "pending"),
        ("main", "pending"),
    ]
    first = topic.published()
    assert [(a["cluster"], a["source"], data) for a, data in first] == [
        ("local", f"rollout {rollout_id}", text)
    ]
    assert started["next"]["waiting"] == ["local/monitoring/obs: no summary in the fleet store yet"]

    # The same spec again is the same rollout: refused, nothing published.
    code, _ = gunj(
        capsys,
        "rollout",
        "start",
        str(tmp_path / "spec.yaml"),
        "--project",
        project,
        "--topic-prefix",
        topic.prefix,
    )
    assert code == 1 and topic.published() == []

    # The canary's platform reconciled the spec and is Ready: its outcome moves the rollout on.
    digest = spec_digest(load_platform(text))
    fleet_store.document("platforms", summary_key("local", "monitoring/obs")).set(
        {"phase": "Ready", "ready": True, "specDigest": digest, "updatedAt": datetime.now(UTC)}
    )
    after_outcome("reconcile", {"cluster": "local", "platform": "monitoring/obs"}, env)

    assert [a["cluster"] for a, _ in topic.published()] == ["local-2"]
    code, status = gunj(capsys, "rollout", "status", rollout_id, "-o", "json")
    assert [w["state"] for w in status["waves"]] == ["done", "applying", "pending"]

    # Paused, the early wave's Ready platform starts no further wave.
    assert gunj(capsys, "rollout", "pause", rollout_id)[0] == 0
    fleet_store.document("platforms", summary_key("local-2", "monitoring/obs")).set(
        {"phase": "Ready", "ready": True, "specDigest": digest, "updatedAt": datetime.now(UTC)}
    )
    after_outcome("reconcile", {"cluster": "local-2", "platform": "monitoring/obs"}, env)
    assert topic.published() == []

    code, table = gunj(capsys, "rollout", "status")
    assert code == 0 and rollout_id in table and "paused" in table
    code, aborted = gunj(capsys, "rollout", "abort", rollout_id, "-o", "json")
    assert aborted["state"] == "aborted"
    assert [w["state"] for w in aborted["waves"]] == ["done", "applying", "pending"]


def test_an_unknown_rollout_is_named(
    rollout_env: tuple[Topic, dict[str, str]],
    fleet_store: Store,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rollout", "pause", "no-such-rollout"]) == 1
    assert "no rollout 'no-such-rollout'" in capsys.readouterr().err

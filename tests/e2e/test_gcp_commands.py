"""The commands of docs/gcp.md, run as written against the Pub/Sub emulator: a spec sent with
``gcloud pubsub topics publish`` and its attributes, and with ``gunj publish --project``; the
outcomes read with ``gunj events --project --subscription`` from a subscription made as the
Terraform module makes its ``events_subscription``; ``gunj status`` on the cluster."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from google.cloud import pubsub_v1

from shared.engine.resource import read_platform
from shared.handlers import topics as names
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.conftest import IN_CI
from tests.e2e.harness import ServedFunction, registry_file, served_function

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reconcile(local_stack: Stack, tmp_path: Path) -> Iterator[ServedFunction]:
    clusters = registry_file(local_stack, tmp_path)
    with served_function(
        "reconcile", local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
    ) as served:
        yield served


@pytest.fixture
def outcomes(reconcile: ServedFunction) -> str:
    """The subscription the module keeps on platform-events:
    ``<prefix>-platform-events-outcomes``."""
    topics = reconcile.topics
    name = f"{topics.prefix}-platform-events-outcomes"
    pubsub_v1.SubscriberClient().create_subscription(
        name=f"projects/{topics.project}/subscriptions/{name}",
        topic=topics.path(names.EVENTS),
        ack_deadline_seconds=60,
    )
    return name


@pytest.fixture
def gcloud(local_stack: Stack, tmp_path: Path) -> dict[str, str]:
    """gcloud's environment: its Pub/Sub calls sent to the emulator, with a configuration of
    its own and a placeholder token (the emulator checks none)."""
    if shutil.which("gcloud") is None:
        message = "gcloud (the Google Cloud SDK) is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    config = tmp_path / "gcloud"
    config.mkdir()
    (config / "token").write_text("emulator")
    return {
        **os.environ,
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB": f"http://{local_stack.pubsub_host}/",
        "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": str(config / "token"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
    }


def gunj(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def gcloud_publish(
    env: dict[str, str], topic: str, project: str, spec: Path, attributes: str
) -> str:
    """The doc's command: the spec as the message, its attributes comma-separated."""
    result = subprocess.run(
        [
            "gcloud",
            "pubsub",
            "topics",
            "publish",
            topic,
            f"--project={project}",
            f"--message={spec.read_text()}",
            f"--attribute={attributes}",
            "--format=value(messageIds)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_spec_sent_with_gcloud_and_gunj_publish_and_the_outcomes_read_back(
    reconcile: ServedFunction,
    outcomes: str,
    gcloud: dict[str, str],
    namespace: str,
    cluster: ClusterAccess,
    tmp_path: Path,
) -> None:
    minimal = yaml.safe_load((ROOT / "examples" / "minimal.yaml").read_text())
    minimal["metadata"]["namespace"] = namespace
    spec = tmp_path / "platform.yaml"
    spec.write_text(yaml.safe_dump(minimal))
    topics = reconcile.topics
    project = ["--project", topics.project, "--topic-prefix", topics.prefix]
    env = {**os.environ, "GUNJ_CLUSTERS": reconcile.env["GUNJ_CLUSTERS"]}

    # gcloud, with the attributes the doc lists.
    applied = gcloud_publish(
        gcloud,
        topics.name(names.SPECS),
        topics.project,
        spec,
        "cluster=local,generation=1,action=apply,source=git:abc123",
    )
    assert reconcile.final(applied)["result"] == "ready"
    stored = read_platform(cluster, namespace, "obs")
    assert stored is not None and stored.status.phase == "Ready"
    # The outcome, read from the module-shaped subscription.
    events = gunj("events", *project, "--subscription", outcomes, "--timeout", "5", env=env)
    assert events.returncode == 0, events.stderr
    assert re.search(
        rf"reconcile {namespace}/obs on local \(generation 1\): ready: ", events.stdout
    ), events.stdout

    # gunj status on the cluster.
    status = gunj("status", "--cluster", "local", env=env)
    assert status.returncode == 0, status.stderr
    assert f"{namespace}/obs" in status.stdout and "Ready" in status.stdout, status.stdout

    # Another message's outcome waits on the subscription while gunj publish --wait runs.
    elsewhere = gcloud_publish(
        gcloud, topics.name(names.SPECS), topics.project, spec, "cluster=nowhere"
    )
    assert reconcile.final(elsewhere)["result"] == "refused"

    # gunj publish --project, followed through the same subscription.
    published = gunj(
        "publish",
        str(spec),
        "--cluster",
        "local",
        "--generation",
        "2",
        *project,
        "--wait",
        "--subscription",
        outcomes,
        "--timeout",
        "240",
        "--output",
        "json",
        env=env,
    )
    assert published.returncode == 0, published.stderr
    outcome = json.loads(published.stdout[published.stdout.index("{\n") :])
    assert (outcome["result"], outcome["generation"], outcome["cluster"]) == ("ready", 2, "local")
    assert outcome["source"] == "gunj publish platform.yaml"
    assert f"to {topics.path(names.SPECS)} for cluster local" in published.stderr
    # It took its own message's outcomes only: the other one is still there for gunj events.
    events = gunj("events", *project, "--subscription", outcomes, "--timeout", "5", env=env)
    assert re.search(r" on nowhere: refused: ", events.stdout), events.stdout
    assert "(generation 2)" not in events.stdout

    # An older generation is ignored; a delete uninstalls.
    stale = gcloud_publish(
        gcloud, topics.name(names.SPECS), topics.project, spec, "cluster=local,generation=1"
    )
    assert reconcile.final(stale)["result"] == "stale"
    deleted = gcloud_publish(
        gcloud,
        topics.name(names.SPECS),
        topics.project,
        spec,
        "cluster=local,generation=3,action=delete",
    )
    assert reconcile.final(deleted)["result"] == "removed"
    assert read_platform(cluster, namespace, "obs") is None
    status = gunj("status", "--cluster", "local", env=env)
    assert status.returncode == 0, status.stderr
    assert f"{namespace}/obs" not in status.stdout


def test_publish_wait_reaches_past_a_backlog_and_leaves_it_to_other_readers(
    reconcile: ServedFunction, outcomes: str, tmp_path: Path
) -> None:
    """Outcomes nobody read yet (more than one pull returns) do not hide the message's own, and
    are all still there afterwards."""
    topics = reconcile.topics
    publisher = pubsub_v1.PublisherClient()
    backlog = [
        publisher.publish(
            topics.path(names.EVENTS),
            json.dumps({"message_id": f"old-{n}", "result": "ready", "transient": False}).encode(),
        )
        for n in range(120)
    ]
    for future in backlog:
        future.result(timeout=30)
    spec = tmp_path / "platform.yaml"
    spec.write_text((ROOT / "examples" / "minimal.yaml").read_text())
    project = ["--project", topics.project, "--topic-prefix", topics.prefix]

    published = gunj(
        "publish",
        str(spec),
        "--cluster",
        "nowhere",
        *project,
        "--wait",
        "--subscription",
        outcomes,
        "--timeout",
        "120",
        "--output",
        "json",
        env=dict(os.environ),
    )

    assert published.returncode == 1, published.stderr  # refused: a permanent problem
    outcome = json.loads(published.stdout[published.stdout.index("{\n") :])
    assert (outcome["result"], outcome["cluster"]) == ("refused", "nowhere")
    subscriber = pubsub_v1.SubscriberClient()
    path = f"projects/{topics.project}/subscriptions/{outcomes}"
    left: set[str] = set()
    for _ in range(20):
        answer = subscriber.pull(subscription=path, max_messages=100, timeout=10)
        if not answer.received_messages:
            break
        left |= {json.loads(m.message.data)["message_id"] for m in answer.received_messages}
        subscriber.acknowledge(
            subscription=path, ack_ids=[m.ack_id for m in answer.received_messages]
        )
    assert left == {f"old-{n}" for n in range(120)}

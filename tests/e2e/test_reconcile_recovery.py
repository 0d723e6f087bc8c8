"""The reconcile function survives what ends it early: killed with SIGKILL during an upgrade,
the event is delivered again and completes the platform; the Pub/Sub emulator restarted while it
works, nothing is lost and the outcome still arrives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from shared.helm.releases import ReleaseState, ReleaseStore
from shared.kube import ClusterAccess
from shared.localstack import servers, serving, tools
from shared.localstack.processes import Daemon
from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.engine_support import SMALL_PROMETHEUS, platform

BASE = {**SMALL_PROMETHEUS, "timeout": "20s"}
SLOW = {
    **BASE,
    "retention": "2d",
    "config": {"server": {"podAnnotations": {"gunj.io/ready-after": "8s"}}},
}
# Redeliveries for long enough to outlast a killed Helm's deadline (timeout plus stop grace).
PATIENT = serving.Delivery(ack_deadline=60, minimum_backoff=2, maximum_backoff=5, max_attempts=40)


@pytest.fixture
def reconcile(local_stack: Stack, tmp_path: Path) -> Iterator[ServedFunction]:
    with served_function(
        "reconcile",
        local_stack,
        tmp_path,
        helm=local_stack.helm[3],
        clusters=registry_file(local_stack, tmp_path),
        delivery=PATIENT,
        env={"GUNJ_LEASE_SECONDS": "5"},
    ) as served:
        yield served


def spec(namespace: str, prometheus: dict[str, object]) -> str:
    return yaml.safe_dump(platform(namespace, prometheus=prometheus).manifest())


def wait_for(state: ReleaseState, cluster: ClusterAccess, namespace: str) -> None:
    deadline = time.monotonic() + 90
    while ReleaseStore(cluster).observe("obs-prometheus", namespace).state is not state:
        assert time.monotonic() < deadline, f"obs-prometheus never became {state}"
        time.sleep(0.1)


def test_a_function_killed_during_an_upgrade_completes_on_redelivery(
    reconcile: ServedFunction, namespace: str, cluster: ClusterAccess
) -> None:
    first = reconcile.publish(spec(namespace, BASE), cluster="local")
    assert reconcile.final(first)["result"] == "ready"

    message_id = reconcile.publish(spec(namespace, SLOW), cluster="local")
    wait_for(ReleaseState.LOCKED, cluster, namespace)
    reconcile.kill()  # mid-upgrade: the release stays pending-upgrade
    reconcile.restart()
    outcome = reconcile.final(message_id, timeout=300)

    assert outcome["result"] == "ready", outcome
    assert outcome["components"][0]["actions"] == ["unlock", "rollback", "upgrade", "verify"]
    release = ReleaseStore(cluster).observe("obs-prometheus", namespace)
    assert (release.state, release.revision) == (ReleaseState.DEPLOYED, 4)
    assert reconcile.dead_lettered() == []


def test_the_emulator_restarting_during_a_run_loses_nothing(
    reconcile: ServedFunction, namespace: str, cluster: ClusterAccess, local_stack: Stack
) -> None:
    message_id = reconcile.publish(spec(namespace, SLOW), cluster="local")
    wait_for(ReleaseState.LOCKED, cluster, namespace)  # the install is under way

    emulator = Daemon("pubsub-emulator", local_stack.folder)
    emulator.stop()
    servers.start_pubsub_emulator(
        tools.provision().pubsub_emulator,
        local_stack.folder,
        local_stack.ports.pubsub,
        local_stack.pubsub_project,
    )
    reconcile.resubscribe()  # the emulator keeps nothing: what `gunj local up` does again
    outcome = reconcile.final(message_id, timeout=300)

    assert outcome["result"] == "ready", outcome
    release = ReleaseStore(cluster).observe("obs-prometheus", namespace)
    assert (release.state, release.revision) == (ReleaseState.DEPLOYED, 1)

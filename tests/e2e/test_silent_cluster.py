"""The reconcile function and an API server that accepts connections and never answers: a spec
published for that cluster through Pub/Sub ends as a transient outcome naming the cluster and
the request it waited for, within the request's timeout; with a work deadline shorter than that
(``GUNJ_WORK_SECONDS``), the handler stops waiting at the deadline, reports the event as
transient and Pub/Sub delivers it again, while specs for other clusters go through."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.engine_support import SMALL_TEMPO
from tests.servers import silent_server
from tests.unit.test_clusters import kubeconfig_text


def spec(namespace: str, **components: Any) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": "obs", "namespace": namespace},
            "spec": components,
        }
    )


@pytest.fixture
def silent_registry(local_stack: Stack, tmp_path: Path) -> Iterator[Path]:
    """A registry with the local cluster and ``hung``, whose API server never answers."""
    with silent_server() as silent:
        kubeconfig = tmp_path / "hung.yaml"
        kubeconfig.write_text(kubeconfig_text().replace("https://127.0.0.1:6443", silent.url))
        yield registry_file(
            local_stack, tmp_path, hung={"kubeconfig": str(kubeconfig), "context": "main"}
        )


def first_outcome(served: ServedFunction, message_id: str, published: float) -> dict[str, Any]:
    outcome = served.events_for(message_id, lambda found: len(found) >= 1, timeout=300)[0]
    print(
        f"outcome of {message_id} {time.monotonic() - published:.1f} s after publishing "
        f"(the handler's own account: {outcome['duration']} s)"
    )
    return outcome


def test_a_spec_for_a_silent_cluster_is_transient_naming_what_it_waited_for(
    local_stack: Stack, tmp_path: Path, silent_registry: Path
) -> None:
    with served_function(
        "reconcile", local_stack, tmp_path, helm=local_stack.helm[3], clusters=silent_registry
    ) as reconcile:
        published = time.monotonic()
        message_id = reconcile.publish(spec("monitoring", tempo=SMALL_TEMPO), cluster="hung")
        outcome = first_outcome(reconcile, message_id, published)

    assert (outcome["result"], outcome["transient"]) == ("error", True), outcome
    assert (outcome["cluster"], outcome["platform"]) == ("hung", "monitoring/obs")
    assert outcome["message"] == (
        "the API server did not answer POST /api/v1/namespaces within 5 s"
    )


def test_work_past_its_deadline_is_given_up_and_delivered_again_without_holding_up_others(
    local_stack: Stack, tmp_path: Path, silent_registry: Path, namespace: str
) -> None:
    with served_function(
        "reconcile",
        local_stack,
        tmp_path,
        helm=local_stack.helm[3],
        clusters=silent_registry,
        # Shorter than a request's timeout (5 s to connect): the work is still waiting when
        # the deadline comes.
        env={"GUNJ_WORK_SECONDS": "4"},
    ) as reconcile:
        published = time.monotonic()
        hung = reconcile.publish(spec("monitoring", tempo=SMALL_TEMPO), cluster="hung")
        outcome = first_outcome(reconcile, hung, published)
        again = reconcile.events_for(hung, lambda found: len(found) >= 2, timeout=300)
        print(f"delivered again: {len(again)} outcomes {time.monotonic() - published:.1f} s in")
        # A spec for the local cluster while the hung one keeps coming back: paused, so its
        # work (no Helm) fits in the deadline.
        local = reconcile.publish(spec(namespace, paused=True, tempo=SMALL_TEMPO), cluster="local")
        done = reconcile.events_for(
            local, lambda found: any(not e["transient"] for e in found), timeout=300
        )
        print(f"the local spec, meanwhile: {[e['result'] for e in done]}")

    assert (outcome["result"], outcome["transient"], outcome["cluster"]) == (
        "error",
        True,
        "hung",
    ), outcome
    assert outcome["message"] == (
        "the apply for cluster 'hung': not finished within 4 s (GUNJ_WORK_SECONDS); stopped "
        "waiting, the event is delivered again"
    )
    assert all(e["transient"] for e in again)
    assert done[-1]["result"] == "paused", done

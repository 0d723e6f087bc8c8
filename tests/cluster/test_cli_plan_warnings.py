"""`gunj plan SPEC --cluster local` warns, before any apply, of what the spec asks of the
cluster that it does not have: a storage class that does not exist, a node selector no node's
labels meet; and says nothing of either when the cluster has them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from shared.localstack.stack import Stack
from tests.cluster.test_cli_plan import plan, write
from tests.engine_support import SMALL_PROMETHEUS, Engine, cli_environment


def test_plan_warns_of_a_missing_storage_class_and_a_node_selector_no_node_meets(
    engine_helm3: Engine, local_stack: Stack, namespace: str, tmp_path: Path
) -> None:
    env = cli_environment(local_stack, tmp_path, engine_helm3.helm.binary.path)
    missing = f"gunj-missing-{uuid.uuid4().hex[:6]}"
    lacking = {
        **SMALL_PROMETHEUS,
        "storage": {"enabled": True, "size": "1Gi", "storageClassName": missing},
        "nodeSelector": {"gunj.io/nowhere": "x"},
    }

    answer = plan(env, write(tmp_path, "lacking", namespace, lacking))

    assert answer.returncode == 0, answer.stderr
    assert (
        f'  warning: server.persistentVolume.storageClass: storage class "{missing}" does not '
        "exist on the cluster; a claim naming it would never bind"
    ) in answer.stdout.splitlines(), answer.stdout
    assert (
        "  warning: server.nodeSelector: no node of the cluster has the labels "
        "gunj.io/nowhere=x; its pods would never be scheduled"
    ) in answer.stdout.splitlines(), answer.stdout
    as_json = plan(env, write(tmp_path, "lacking", namespace, lacking), "--output", "json")
    (prometheus,) = json.loads(as_json.stdout)["components"]
    assert len(prometheus["warnings"]) == 2

    met = {
        **SMALL_PROMETHEUS,
        "storage": {"enabled": True, "size": "1Gi", "storageClassName": "standard"},
        "nodeSelector": {"type": "kwok"},
    }
    answer = plan(env, write(tmp_path, "met", namespace, met))

    assert answer.returncode == 0, answer.stderr
    assert "warning" not in answer.stdout, answer.stdout

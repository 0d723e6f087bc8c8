"""`gunj plan SPEC --cluster local`, as a process: per component what applying the spec would
do (install, upgrade or nothing) and the values that would change against the deployed release,
with values from Secrets shown as references; and it changes nothing in the cluster."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from shared.engine.resource import read_platform
from shared.helm.releases import ReleaseState
from shared.localstack.stack import Stack
from tests.engine_support import SMALL_PROMETHEUS, Engine, cli_environment, platform


def plan(env: dict[str, str], spec: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "plan", str(spec), "--cluster", "local", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def write(folder: Path, name: str, namespace: str, prometheus: dict[str, Any]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(platform(namespace, prometheus=prometheus).manifest()))
    return path


def changes_of(answer: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert answer.returncode == 0, answer.stderr
    (prometheus,) = json.loads(answer.stdout)["components"]
    return {change["path"]: change for change in prometheus["changes"]} | {"": prometheus}


def test_plan_against_the_cluster_says_what_apply_would_do_and_changes_nothing(
    engine_helm3: Engine, local_stack: Stack, namespace: str, tmp_path: Path
) -> None:
    engine = engine_helm3
    env = cli_environment(local_stack, tmp_path, engine.helm.binary.path)
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    engine.access.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="extra-values"),
            data={
                "values.yaml": base64.b64encode(
                    yaml.safe_dump({"server": {"podAnnotations": {"token": secret}}}).encode()
                ).decode()
            },
        ),
    )
    first = {**SMALL_PROMETHEUS, "chartVersion": "29.26.0", "retention": "2d"}

    # Nothing there yet: an install, and the plan leaves no trace.
    fresh = write(tmp_path, "fresh", namespace, first)
    planned = changes_of(plan(env, fresh, "--output", "json"))
    assert planned[""]["action"] == "install"
    assert (planned[""]["deployedVersion"], planned[""]["wantedVersion"]) == (None, "29.26.0")
    assert planned["server.retention"]["change"] == "added"
    assert read_platform(engine.access, namespace, "obs") is None
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT

    assert engine.apply(platform(namespace, prometheus=first)).result == "ready"
    stored = read_platform(engine.access, namespace, "obs")
    assert stored is not None

    # The same spec: nothing to do.
    same = plan(env, fresh)
    assert same.returncode == 0, same.stderr
    assert "prometheus (helm mode): nothing" in same.stdout
    assert "values: as deployed" in same.stdout

    # A new version, a changed value and values from a Secret: an upgrade, the Secret's value
    # shown as where it comes from.
    changed = {
        **first,
        "chartVersion": "29.27.0",
        "retention": "3d",
        "valuesFrom": [{"kind": "Secret", "name": "extra-values", "key": "values.yaml"}],
    }
    upgrade = write(tmp_path, "changed", namespace, changed)
    as_json = plan(env, upgrade, "--output", "json")
    planned = changes_of(as_json)
    assert planned[""]["action"] == "upgrade"
    assert (planned[""]["deployedVersion"], planned[""]["wantedVersion"]) == (
        "29.26.0",
        "29.27.0",
    )
    assert (planned["server.retention"]["before"], planned["server.retention"]["after"]) == (
        "2d",
        "3d",
    )
    token = planned["server.podAnnotations.token"]
    assert token["change"] == "added"
    assert token["after"] == "<from Secret extra-values key values.yaml, valuesFrom[0]>"
    as_text = plan(env, upgrade)
    assert "~ server.retention: 2d -> 3d" in as_text.stdout
    assert "version: 29.26.0 -> 29.27.0" in as_text.stdout
    for answer in (as_json, as_text):
        assert secret not in answer.stdout + answer.stderr

    # Still nothing changed: the release, the platform object and its status are as they were.
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (1, "29.26.0")
    after = read_platform(engine.access, namespace, "obs")
    assert after is not None
    assert (after.spec, after.status) == (stored.spec, stored.status)

    # Applied with the Secret, then planned without it: the value the release holds from the
    # Secret is not shown, since the spec no longer says where it came from.
    assert engine.apply(platform(namespace, prometheus=changed)).result == "ready"
    without = {key: value for key, value in changed.items() if key != "valuesFrom"}
    dropped = plan(env, write(tmp_path, "dropped", namespace, without), "--output", "json")
    planned = changes_of(dropped)
    assert planned[""]["action"] == "upgrade"
    token = planned["server.podAnnotations.token"]
    assert (token["change"], token["before"]) == ("removed", "<not shown: not from the spec>")
    assert "server.retention" not in planned
    assert secret not in dropped.stdout + dropped.stderr


def test_plan_against_an_unknown_cluster_or_with_offline_is_refused(
    local_stack: Stack, namespace: str, tmp_path: Path
) -> None:
    env = cli_environment(local_stack, tmp_path, Path("helm"))
    spec = write(tmp_path, "spec", namespace, SMALL_PROMETHEUS)
    unknown = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "plan", str(spec), "--cluster", "nowhere"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unknown.returncode == 1
    assert "nowhere" in unknown.stderr
    both = plan(env, spec, "--offline")
    assert both.returncode == 2
    assert "--offline and --cluster exclude each other" in both.stderr

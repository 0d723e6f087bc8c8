"""The `gunj` commands a person runs against a cluster, as separate processes on the local
cluster: apply, status, rollback (which quarantines the version rolled back from), unquarantine
and uninstall, with their exit codes, tables and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from shared.helm.releases import ReleaseState
from shared.localstack.stack import Stack
from tests.engine_support import SMALL_PROMETHEUS, Engine, cli_environment, platform

Gunj = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def gunj(engine_helm3: Engine, local_stack: Stack, tmp_path: Path) -> Gunj:
    env = cli_environment(local_stack, tmp_path, engine_helm3.helm.binary.path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shared.cli.main", *args, "--cluster", "local"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run


def spec_file(folder: Path, namespace: str, chart_version: str) -> Path:
    prometheus = {**SMALL_PROMETHEUS, "chartVersion": chart_version}
    path = folder / f"platform-{chart_version}.yaml"
    path.write_text(yaml.safe_dump(platform(namespace, prometheus=prometheus).manifest()))
    return path


def test_apply_status_rollback_unquarantine_and_uninstall_from_the_command_line(
    gunj: Gunj, engine_helm3: Engine, namespace: str, tmp_path: Path
) -> None:
    engine = engine_helm3
    target = f"{namespace}/obs"
    first = gunj("apply", str(spec_file(tmp_path, namespace, "29.26.0")), "--output", "json")
    assert first.returncode == 0, first.stderr
    outcome = json.loads(first.stdout)
    assert outcome["result"] == "ready"
    assert outcome["components"][0]["actions"] == ["install", "verify"]
    assert "prometheus" in first.stderr  # progress, while it works

    upgraded = gunj("apply", str(spec_file(tmp_path, namespace, "29.27.0")))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgrade" in upgraded.stdout

    shown = gunj("status", target)
    assert shown.returncode == 0, shown.stderr
    assert "prometheus" in shown.stdout and "29.27.0" in shown.stdout
    missing = gunj("status", f"{namespace}/nothing")
    assert missing.returncode == 1
    assert f"no platform {namespace}/nothing" in missing.stderr

    rolled = gunj("rollback", target, "prometheus", "--output", "json")
    assert rolled.returncode == 0, rolled.stderr
    assert json.loads(rolled.stdout)["result"] == "rolled-back"
    release = engine.release(namespace, "obs-prometheus")
    assert (release.chart_version, release.revision) == ("29.26.0", 3)
    status = json.loads(gunj("status", target, "--output", "json").stdout)[0]
    quarantined = status["status"]["quarantinedVersions"]
    assert [(q["component"], q["chartVersion"]) for q in quarantined] == [("prometheus", "29.27.0")]

    # Held: reconcile does not upgrade straight back to the quarantined version.
    held = gunj("apply", str(spec_file(tmp_path, namespace, "29.27.0")), "--output", "json")
    assert json.loads(held.stdout)["components"][0]["actions"] == []
    assert engine.release(namespace, "obs-prometheus").chart_version == "29.26.0"

    lifted = gunj("unquarantine", target, "prometheus", "29.27.0")
    assert lifted.returncode == 0, lifted.stderr
    again = gunj("unquarantine", target, "prometheus", "29.27.0")
    assert again.returncode == 1
    assert "29.27.0 is not quarantined" in again.stderr + again.stdout

    removed = gunj("uninstall", target, "--yes", "--output", "json")
    assert removed.returncode == 0, removed.stderr
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    assert gunj("status", target).returncode == 1


def kubectl(stack: Stack, namespace: str, *args: str) -> None:
    subprocess.run(
        [str(stack.kubectl), "--kubeconfig", str(stack.kubeconfig), "-n", namespace, *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_resync_puts_back_what_was_deleted_and_status_says_what_was_corrected(
    gunj: Gunj, engine_helm3: Engine, namespace: str, tmp_path: Path, local_stack: Stack
) -> None:
    target = f"{namespace}/obs"
    applied = gunj("apply", str(spec_file(tmp_path, namespace, "29.27.0")))
    assert applied.returncode == 0, applied.stderr
    kubectl(local_stack, namespace, "delete", "deployment", "obs-prometheus-server")

    planned = gunj("plan", str(spec_file(tmp_path, namespace, "29.27.0")))
    resynced = gunj("resync", target)
    shown = gunj("status", target)

    assert planned.returncode == 0, planned.stderr
    assert "correct" in planned.stdout
    assert "drifted: Deployment obs-prometheus-server is missing" in planned.stdout
    assert resynced.returncode == 0, resynced.stderr
    assert "corrected" in resynced.stdout and "correct" in resynced.stdout
    assert engine_helm3.access.apps.read_namespaced_deployment("obs-prometheus-server", namespace)
    assert shown.returncode == 0, shown.stderr
    assert "corrected: prometheus" in shown.stdout
    assert "looked at" in shown.stdout


def test_status_live_looks_now_where_the_record_would_say_what_was(
    gunj: Gunj, engine_helm3: Engine, namespace: str, tmp_path: Path, local_stack: Stack
) -> None:
    target = f"{namespace}/obs"
    assert gunj("apply", str(spec_file(tmp_path, namespace, "29.27.0"))).returncode == 0
    kubectl(local_stack, namespace, "scale", "deployment", "obs-prometheus-server", "--replicas=0")

    recorded = gunj("status", target)
    live = gunj("status", target, "--live")
    document = json.loads(gunj("status", target, "--live", "--output", "json").stdout)[0]

    assert "InSync" in recorded.stdout and "drifted" not in recorded.stdout
    assert live.returncode == 0, live.stderr
    assert "drifted: prometheus Deployment obs-prometheus-server changed at spec.replicas" in (
        live.stdout
    )
    assert document["status"]["components"]["prometheus"]["drift"][0]["paths"] == ["spec.replicas"]
    # Only looked: nothing was corrected nor written.
    deployment = engine_helm3.access.apps.read_namespaced_deployment(
        "obs-prometheus-server", namespace
    )
    assert deployment.spec.replicas == 0
    assert engine_helm3.status(namespace).components["prometheus"].drift == []

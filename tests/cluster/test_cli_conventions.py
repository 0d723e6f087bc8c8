"""The command line conventions that need a real cluster: ``gunj uninstall`` asks on a terminal
(``--yes`` skips it, without a terminal it is refused) and lists what it would remove with
``--dry-run``; ``gunj plan --manifests`` prints the objects applying would create, a Secret's
data never; a reader that goes away (``| head -1``) ends the command with its Lease given up."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from shared.helm.releases import ReleaseState
from shared.localstack.stack import Stack
from tests.engine_support import SMALL_PROMETHEUS, SMALL_TEMPO, Engine, cli_environment, platform

Gunj = Callable[..., subprocess.CompletedProcess[str]]
COMMAND = [sys.executable, "-m", "shared.cli.main"]


@pytest.fixture
def env(engine_helm3: Engine, local_stack: Stack, tmp_path: Path) -> dict[str, str]:
    return cli_environment(local_stack, tmp_path, engine_helm3.helm.binary.path)


@pytest.fixture
def gunj(env: dict[str, str]) -> Gunj:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    return run


def spec_file(folder: Path, namespace: str, **components: dict[str, object]) -> Path:
    path = folder / "platform.yaml"
    path.write_text(yaml.safe_dump(platform(namespace, **components).manifest()))
    return path


def on_a_terminal(env: dict[str, str], arguments: list[str], answer: str) -> tuple[int, str]:
    """Run gunj with a terminal as stdin and stderr, type ``answer`` when it asks."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*COMMAND, *arguments],
        env=env,
        stdin=follower,
        stderr=follower,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    said = b""
    while b"[y/N]" not in said:
        said += os.read(leader, 4096)
    os.write(leader, answer.encode() + b"\n")
    stdout, _ = process.communicate(timeout=300)
    try:
        while chunk := os.read(leader, 4096):
            said += chunk
    except OSError:  # the terminal is closed once the process has exited
        pass
    os.close(leader)
    return process.returncode, said.decode(errors="replace") + stdout


def test_uninstall_asks_on_a_terminal_refuses_without_one_and_lists_on_dry_run(
    gunj: Gunj, env: dict[str, str], engine_helm3: Engine, namespace: str, tmp_path: Path
) -> None:
    target = f"{namespace}/obs"
    spec = spec_file(tmp_path, namespace, prometheus=SMALL_PROMETHEUS)
    assert gunj("apply", str(spec), "--cluster", "local").returncode == 0

    dry = gunj("uninstall", target, "--cluster", "local", "--dry-run")
    refused = gunj("uninstall", target, "--cluster", "local")
    declined, asked = on_a_terminal(env, ["uninstall", target, "--cluster", "local"], "n")

    assert dry.returncode == 0, dry.stderr
    assert "would remove from local (dry run: nothing was changed)" in dry.stdout
    assert "obs-prometheus" in dry.stdout and "29.27.0" in dry.stdout
    assert f"then the platform {target}" in dry.stdout
    assert refused.returncode == 1
    assert "there is no terminal to ask for confirmation; give --yes" in refused.stderr
    assert declined == 1
    assert f"remove {target} from local with its releases (obs-prometheus)? [y/N]" in asked
    assert "not confirmed; nothing was removed" in asked
    assert engine_helm3.release(namespace, "obs-prometheus").state is ReleaseState.DEPLOYED

    confirmed, _ = on_a_terminal(env, ["uninstall", target, "--cluster", "local"], "y")

    assert confirmed == 0
    assert engine_helm3.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    assert gunj("status", target, "--cluster", "local").returncode == 1


def test_plan_manifests_prints_the_objects_with_secret_data_hidden(
    gunj: Gunj, namespace: str, tmp_path: Path
) -> None:
    spec = spec_file(
        tmp_path,
        namespace,
        prometheus={**SMALL_PROMETHEUS, "mode": "native"},
        grafana={"chartVersion": "12.11.1"},
    )

    shown = gunj("plan", str(spec), "--cluster", "local", "--manifests")

    assert shown.returncode == 0, shown.stderr
    objects = [d for d in yaml.safe_load_all(shown.stdout) if d]
    named = {(o["kind"], o["metadata"]["name"]) for o in objects}
    # Native mode's rendered objects, labelled as gunj labels them.
    assert ("Deployment", "obs-prometheus-native") in named
    native = next(o for o in objects if o["metadata"]["name"] == "obs-prometheus-native")
    assert native["metadata"]["labels"]["gunj.io/native"] == "true"
    assert f"# prometheus: release obs-prometheus in {namespace}, rendered by gunj" in shown.stdout
    assert ("Deployment", "obs-grafana") in named
    # Helm's manifest, with the admin Secret the chart generates: its data is not shown.
    assert "helm template of grafana 12.11.1" in shown.stdout
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["data"]
    assert all(v.startswith("<secret value") for v in secret["data"].values())
    # Nothing was applied.
    assert gunj("status", f"{namespace}/obs", "--cluster", "local").returncode == 1


def test_a_closed_pipe_ends_uninstall_quietly_with_its_lease_given_up(
    gunj: Gunj, env: dict[str, str], engine_helm3: Engine, namespace: str, tmp_path: Path
) -> None:
    target = f"{namespace}/obs"
    spec = spec_file(tmp_path, namespace, prometheus=SMALL_PROMETHEUS, tempo=SMALL_TEMPO)
    assert gunj("apply", str(spec), "--cluster", "local").returncode == 0

    # As `gunj uninstall ... 2>&1 | head -1`: the reader takes the first line and goes away
    # while the command still has components to remove and lines to write.
    process = subprocess.Popen(
        [*COMMAND, "uninstall", target, "--cluster", "local", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    first = process.stdout.readline().decode()
    process.stdout.close()
    code = process.wait(timeout=300)

    assert "uninstall obs-" in first
    assert code == 141  # 128 + SIGPIPE, as a shell reports a pipeline's writer that was cut
    lease = engine_helm3.access.coordination.read_namespaced_lease("gunj-obs", namespace)
    assert not lease.spec.holder_identity

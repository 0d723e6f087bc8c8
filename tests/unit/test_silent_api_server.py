"""An API server that accepts connections and never answers: every command that talks to it
says what it waits for after a few seconds, then ends as transient (exit code 3), in one line
naming the cluster and the request it waited for, within the requests' timeouts; Ctrl-C ends a
command waiting on it with one line and exit code 130. (The functions against such a server:
tests/e2e/test_silent_cluster.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Silent, silent_server
from tests.unit.test_clusters import TOKEN, kubeconfig_text

SPEC = (
    "apiVersion: observability.io/v1beta1\nkind: ObservabilityPlatform\n"
    "metadata: {name: obs, namespace: monitoring}\nspec: {tempo: {chartVersion: 2.2.4}}\n"
)


@pytest.fixture
def silent() -> Iterator[Silent]:
    with silent_server() as server:
        yield server


def environment(tmp_path: Path, server: str) -> dict[str, str]:
    kubeconfig = tmp_path / "hung.yaml"
    kubeconfig.write_text(kubeconfig_text().replace("https://127.0.0.1:6443", server))
    env = {
        **os.environ,
        "GUNJ_CLUSTER_REGISTRY": json.dumps(
            {"hung": {"kubeconfig": str(kubeconfig), "context": "main"}}
        ),
        "GUNJ_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("GUNJ_CLUSTERS", None)
    return env


def gunj(*arguments: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finished(process: subprocess.Popen[str], what: str) -> tuple[int, str, str]:
    started = time.monotonic()
    # Far beyond the requests' timeouts: only a hang reaches it.
    stdout, stderr = process.communicate(timeout=300)
    print(f"{what}: exit code {process.returncode} after {time.monotonic() - started:.1f} s")
    return process.returncode, stdout, stderr


def test_status_against_a_silent_api_server_is_one_transient_line(
    tmp_path: Path, silent: Silent
) -> None:
    env = environment(tmp_path, silent.url)

    code, stdout, stderr = finished(gunj("status", "--cluster", "hung", env=env), "gunj status")

    assert code == 3, stderr
    assert stdout == ""
    waiting, failure = stderr.splitlines()
    assert waiting.startswith(
        f"gunj: waiting for the API server at {silent.url} to answer "
        "GET /apis/observability.io/v1beta1/observabilityplatforms ("
    )
    assert failure == (
        "gunj: listing the platforms of cluster 'hung': the API server did not answer "
        "GET /apis/observability.io/v1beta1/observabilityplatforms within 5 s"
    )
    assert silent.connected.is_set()


def test_apply_against_a_silent_api_server_is_transient_naming_what_it_waited_for(
    tmp_path: Path, silent: Silent
) -> None:
    env = environment(tmp_path, silent.url)
    spec = tmp_path / "obs.yaml"
    spec.write_text(SPEC)

    code, stdout, stderr = finished(
        gunj("apply", str(spec), "--cluster", "hung", env=env), "gunj apply"
    )

    assert code == 3, stderr
    assert (
        "monitoring/obs on hung: error (the API server did not answer POST /api/v1/namespaces "
        "within 5 s)" in stdout
    )
    assert "run the command again later" in stderr
    assert "Traceback" not in stderr and TOKEN not in stdout + stderr


@pytest.mark.parametrize(
    "arguments",
    [["apply", "SPEC", "--cluster", "hung"], ["status", "--cluster", "hung"]],
    ids=lambda arguments: arguments[0],
)
def test_ctrl_c_while_waiting_on_a_silent_api_server_is_one_line_and_130(
    tmp_path: Path, silent: Silent, arguments: list[str]
) -> None:
    spec = tmp_path / "obs.yaml"
    spec.write_text(SPEC)
    process = gunj(
        *[str(spec) if a == "SPEC" else a for a in arguments], env=environment(tmp_path, silent.url)
    )
    assert silent.connected.wait(60), "gunj never connected"

    process.send_signal(signal.SIGINT)
    code, stdout, stderr = finished(process, f"gunj {arguments[0]} after Ctrl-C")

    assert code == 130
    # What it waited for may have been said before the Ctrl-C came; nothing else is.
    *waiting, last = stderr.splitlines()
    assert last == "gunj: interrupted"
    assert all(line.startswith("gunj: waiting for the API server at ") for line in waiting)
    assert stdout == ""

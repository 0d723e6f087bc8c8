"""The commands that act on a platform first list the cluster's platforms. An API server that
cannot be reached then ends them with one line naming the cluster and exit code 3 (transient:
run it again later), as the engine reports it for `gunj apply`: no traceback, no credential,
and none of the kubeconfig's words that are no secret (names, the server's address, its keys)
turned into ***."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.clusters import ClusterRegistry
from shared.engine.connect import reconciler_for
from tests.unit.test_clusters import CLIENT_KEY, TOKEN, kubeconfig_text

PASSWORD = "kubeconfig-password"


def kubectl_layout(server: str) -> str:
    """A kubeconfig as kubectl and kind write one: each entry's name first, so ``cluster:``,
    ``user:`` and ``context:`` stand on lines of their own, beside its credentials."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "prod-cluster", "cluster": {"server": server}}],
            "users": [
                {
                    "name": "prod-admin",
                    "user": {
                        "token": TOKEN,
                        "username": "admin",
                        "password": PASSWORD,
                        "client-key-data": CLIENT_KEY,
                    },
                }
            ],
            "contexts": [
                {"name": "main", "context": {"cluster": "prod-cluster", "user": "prod-admin"}}
            ],
            "current-context": "main",
        },
        sort_keys=False,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "monitoring/obs"],
        ["rollback", "monitoring/obs", "prometheus"],
        ["uninstall", "obs"],
        ["unquarantine", "monitoring/obs", "grafana", "10.0.0"],
    ],
    ids=" ".join,
)
def test_an_unreachable_cluster_is_one_transient_line(tmp_path: Path, command: list[str]) -> None:
    # Port 9 (discard) on 127.0.0.1: nothing listens, the connection is refused.
    kubeconfig = tmp_path / "prod.yaml"
    kubeconfig.write_text(kubeconfig_text().replace("127.0.0.1:6443", "127.0.0.1:9"))
    env = {
        **os.environ,
        "GUNJ_CLUSTER_REGISTRY": json.dumps(
            {"prod": {"kubeconfig": str(kubeconfig), "context": "main"}}
        ),
        "GUNJ_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("GUNJ_CLUSTERS", None)

    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *command, "--cluster", "prod"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )

    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "gunj: listing the platforms of cluster 'prod': the API server cannot be reached "
        "(MaxRetryError: Connection refused)"
    ]
    assert TOKEN not in result.stderr


def test_apply_to_an_unreachable_cluster_says_so_in_words_and_exits_transient(
    tmp_path: Path,
) -> None:
    kubeconfig = tmp_path / "prod.yaml"
    kubeconfig.write_text(kubectl_layout("https://127.0.0.1:9"))
    spec = tmp_path / "obs.yaml"
    spec.write_text(
        "apiVersion: observability.io/v1beta1\nkind: ObservabilityPlatform\n"
        "metadata: {name: obs, namespace: monitoring}\nspec: {tempo: {chartVersion: 2.2.4}}\n"
    )
    env = {
        **os.environ,
        "GUNJ_CLUSTER_REGISTRY": json.dumps(
            {"prod": {"kubeconfig": str(kubeconfig), "context": "main"}}
        ),
        "GUNJ_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("GUNJ_CLUSTERS", None)

    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "apply", str(spec), "--cluster", "prod"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )

    assert result.returncode == 3, result.stderr
    output = result.stdout + result.stderr
    assert "monitoring/obs on prod: error (the API server cannot be reached" in output
    assert "***" not in output
    assert TOKEN not in output and PASSWORD not in output


def test_only_the_credentials_of_a_kubeconfig_are_secrets(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "prod.yaml"
    kubeconfig.write_text(kubectl_layout("https://prod.example.com:6443"))
    registry = ClusterRegistry.load(
        {
            "GUNJ_CLUSTER_REGISTRY": json.dumps(
                {"prod": {"kubeconfig": str(kubeconfig), "context": "main"}}
            )
        }
    )
    engine = reconciler_for(registry.get("prod"), {})

    for message in [
        "talking to the cluster: the API server cannot be reached",
        "user: prod-admin of cluster: prod-cluster (context: main, server: "
        "https://prod.example.com:6443, username admin, kind: Config)",
    ]:
        assert engine.redactor(message) == message
    key = base64.b64decode(CLIENT_KEY).decode()
    for secret in (TOKEN, PASSWORD, CLIENT_KEY, key, key.splitlines()[1]):
        assert engine.redactor(f"refused {secret} here") == "refused *** here", secret
    # Each reconcile scrubs with a copy: what it learns stays its own.
    scoped = engine.scoped()
    scoped.redactor.add("platform-only-value")
    assert engine.redactor("platform-only-value") == "platform-only-value"
    assert engine.scoped().redactor("platform-only-value") == "platform-only-value"

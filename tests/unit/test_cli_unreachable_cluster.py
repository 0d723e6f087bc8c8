"""The commands that act on a platform first list the cluster's platforms. An API server that
cannot be reached then ends them with one line naming the cluster and exit code 3 (transient:
run it again later), as the engine reports it for `gunj apply`: no traceback, no credential."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_clusters import TOKEN, kubeconfig_text


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

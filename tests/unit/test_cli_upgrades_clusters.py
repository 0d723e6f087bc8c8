"""`gunj upgrades` reaches each cluster only when its turn comes: a cluster that cannot be
reached is reported next to the others' results (``cluster_errors``, exit 1) instead of ending the
run before any cluster was checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_clusters import kubeconfig_text


def test_an_unreachable_cluster_does_not_stop_the_others_being_checked(tmp_path: Path) -> None:
    # "b" has a kubeconfig but no API server behind it: it is tried after "a" failed to connect.
    listening_nowhere = tmp_path / "b.yaml"
    listening_nowhere.write_text(kubeconfig_text().replace("127.0.0.1:6443", "127.0.0.1:9"))
    registry = {
        "a": {"kubeconfig": str(tmp_path / "missing.yaml"), "context": "main"},
        "b": {"kubeconfig": str(listening_nowhere), "context": "main"},
    }
    env = {
        **os.environ,
        "GUNJ_CLUSTER_REGISTRY": json.dumps(registry),
        "GUNJ_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("GUNJ_CLUSTERS", None)

    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "upgrades", "--output", "json"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(report["cluster_errors"]) == {"a", "b"}
    assert "missing.yaml does not exist" in report["cluster_errors"]["a"]
    assert report["platforms"] == []

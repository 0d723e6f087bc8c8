"""Every `gunj` command's failure modes end with the exit code of one rule
(shared/cli/conventions.py): 0 done, 1 a permanent problem (an unknown cluster, an unreadable
file, a bad spec), 2 a usage error, 3 transient (a cluster or chart repository out of reach).

A cluster out of reach is a kubeconfig pointing at 127.0.0.1:9, where nothing listens; a chart
repository out of reach is a mirror there. No local stack is known to these commands (their
cache folder is empty), so none is started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.cli.conventions import PERMANENT, TRANSIENT, USAGE, subcommands
from shared.cli.main import build_parser, main
from tests.unit.test_clusters import kubeconfig_text

ROOT = Path(__file__).resolve().parents[2]
SPEC = str(ROOT / "examples" / "minimal.yaml")
MISSING = "no-such-spec.yaml"
BAD = "bad.yaml"
NOWHERE = "nowhere"
PROD = "prod"  # registered, out of reach


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("exit-codes")
    kubeconfig = folder / "prod.yaml"
    kubeconfig.write_text(kubeconfig_text().replace("127.0.0.1:6443", "127.0.0.1:9"))
    registry = folder / "clusters.yaml"
    registry.write_text(yaml.safe_dump({PROD: {"kubeconfig": str(kubeconfig), "context": "main"}}))
    (folder / BAD).write_text(
        "apiVersion: observability.io/v1beta1\nkind: ObservabilityPlatform\n"
        "metadata: {name: obs, namespace: monitoring}\nspec: {prometheus: {replicas: many}}\n"
    )
    env = {
        **os.environ,
        # Run from the spec files' folder: this checkout's code first on the path.
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "GUNJ_CLUSTERS": str(registry),
        "GUNJ_CACHE_DIR": str(folder / "cache"),
        "GUNJ_REPOSITORY_MIRRORS": "https://prometheus-community.github.io/helm-charts="
        "http://127.0.0.1:9/prometheus,https://grafana-community.github.io/helm-charts="
        "http://127.0.0.1:9/grafana",
    }
    for variable in ("GUNJ_CLUSTER_REGISTRY", "PUBSUB_EMULATOR_HOST"):
        env.pop(variable, None)
    return folder, env


ON_A_PLATFORM = [
    ["status"],
    ["status", "obs"],
    ["resync"],
    ["rollback", "obs", "prometheus"],
    ["uninstall", "obs"],
    ["uninstall", "obs", "--dry-run"],
    ["unquarantine", "obs", "grafana", "12.0.0"],
    ["apply", SPEC],
    ["plan", SPEC],
    ["upgrades"],
]

CASES = [
    # An unknown cluster: permanent.
    *[([*c, "--cluster", NOWHERE], PERMANENT) for c in ON_A_PLATFORM],
    (["clusters", "rbac", NOWHERE, "monitoring"], PERMANENT),
    (["clusters", "token", NOWHERE, "--register"], PERMANENT),
    (["clusters", "remove", NOWHERE], PERMANENT),
    # A cluster out of reach: transient.
    *[([*c, "--cluster", PROD], TRANSIENT) for c in ON_A_PLATFORM],
    # A chart repository out of reach: transient.
    (["plan", SPEC], TRANSIENT),
    (["plan", SPEC, "--manifests"], TRANSIENT),
    # A file that cannot be read: permanent.
    (["validate", MISSING], PERMANENT),
    (["plan", MISSING], PERMANENT),
    (["plan", MISSING, "--offline"], PERMANENT),
    (["apply", MISSING, "--cluster", PROD], PERMANENT),
    (["publish", MISSING, "--cluster", PROD], PERMANENT),
    (["local", "demo", MISSING], PERMANENT),
    (["clusters", "add", "x", "--kubeconfig", MISSING], PERMANENT),
    # A bad spec: permanent, before any cluster is reached.
    (["validate", BAD], PERMANENT),
    (["plan", BAD, "--offline"], PERMANENT),
    (["plan", BAD, "--cluster", PROD], PERMANENT),
    (["apply", BAD, "--cluster", PROD], PERMANENT),
    # Usage: options that exclude each other, an argument of the wrong form.
    (["plan", SPEC, "--offline", "--cluster", PROD], USAGE),
    (["plan", SPEC, "--manifests", "-o", "json"], USAGE),
    (["events", "--timeout", "soon"], USAGE),
    (["serve", "--resync-every", "often"], USAGE),
    (["rollback", "obs", "prometheus", "--to", "last", "--cluster", PROD], USAGE),
    (["clusters", "token"], USAGE),
    # Done.
    (["validate", SPEC], 0),
    (["plan", SPEC, "--offline"], 0),
    (["clusters"], 0),
]


@pytest.mark.parametrize(
    ("arguments", "code"), CASES, ids=lambda a: " ".join(a) if isinstance(a, list) else str(a)
)
def test_each_failure_mode_ends_with_its_exit_code(
    world: tuple[Path, dict[str, str]], arguments: list[str], code: int
) -> None:
    folder, env = world
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=folder,
        timeout=120,
    )
    assert result.returncode == code, result.stdout + result.stderr
    if code:
        assert result.stderr.strip() or result.stdout.strip()  # it says why
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "words",
    [words for words, _ in subcommands(build_parser())],
    ids=lambda words: " ".join(words) or "gunj",
)
def test_every_command_refuses_an_unknown_option_as_usage(
    words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main([*words, "--no-such-option"])
    assert ended.value.code == USAGE
    # Said as a usage error (argparse's): the option, or the arguments it lacks before it.
    said = capsys.readouterr().err
    assert said.startswith("usage: gunj")
    assert "error: " in said


def test_nothing_was_started_nor_written(world: tuple[Path, dict[str, str]]) -> None:
    folder, _ = world
    assert not list((folder / "cache").rglob("state.json")) if (folder / "cache").exists() else True
    assert yaml.safe_load((folder / "clusters.yaml").read_text()).keys() == {PROD}

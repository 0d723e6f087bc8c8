"""``gunj package``: the functions' deployable source archives (and the lock file they pin)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import packaging
from ..localstack import tools


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    package = subparsers.add_parser(
        "package",
        help="build each function's archive (reconcile, rollback, upgrades, alertmanager)",
    )
    package.add_argument(
        "--output", type=Path, default=Path("dist"), help="folder for the archives (default: dist)"
    )
    package.add_argument(
        "--helm",
        choices=("3", "4", "none"),
        default="3",
        help="Helm major to include at bin/helm, or none to provide it "
        "another way (GUNJ_HELM_BINARY); default 3",
    )
    package.add_argument(
        "--lock",
        action="store_true",
        help="first re-resolve functions/requirements.txt from pyproject.toml",
    )
    package.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    if arguments.lock:
        pins = packaging.lock()
        print(f"wrote {packaging.LOCK_FILE} ({len(pins)} pinned packages)")
    helm = None if arguments.helm == "none" else tools.ensure_helm(int(arguments.helm))
    for function in packaging.FUNCTIONS:
        archive = packaging.build(function, arguments.output, helm)
        print(f"{archive.path}  {archive.size / 1e6:.1f} MB  sha256:{archive.sha256}")
    return 0

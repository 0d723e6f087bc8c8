"""``gunj --version``: gunj's own version, the Helm it would use, and the Python it runs on."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from typing import Any

HELM_SECONDS = 10.0


def gunj_version() -> str:
    try:
        return metadata.version("gunj-functions")
    except metadata.PackageNotFoundError:
        return "unknown (not installed as a package)"


def helm_version() -> str:
    """The Helm a command would run (as :func:`.target._helm_binary` picks it), without
    downloading one: GUNJ_HELM_BINARY, else helm on PATH, else the pinned Helm 3 of gunj's tool
    cache when it is there."""
    binary = os.environ.get("GUNJ_HELM_BINARY") or shutil.which("helm")
    if not binary:
        from ..localstack import paths, pins

        cached = paths.tools_dir() / f"helm-{pins.HELM_PINS[3].version}" / "helm"
        if not cached.exists():
            return (
                f"none found (the pinned Helm {pins.HELM_PINS[3].version} is downloaded on "
                "first use)"
            )
        binary = str(cached)
    try:
        answer = subprocess.run(
            [binary, "version", "--short"],
            capture_output=True,
            text=True,
            timeout=HELM_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{binary}: cannot run: {error}"
    text = answer.stdout.strip() or answer.stderr.strip()
    return f"{text.splitlines()[0] if text else 'unknown'} ({binary})"


def version_text() -> str:
    return (
        f"gunj {gunj_version()}\n"
        f"helm {helm_version()}\n"
        f"python {platform.python_version()} ({sys.executable})\n"
    )


class VersionAction(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="print gunj's version, the Helm it would use and Python's, then exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        sys.stdout.write(version_text())
        parser.exit()

"""Serve a function locally with the real functions-framework, on 127.0.0.1, as Cloud Functions
would run it: the emulator's push subscriptions deliver to it over HTTP."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from .processes import Daemon, port_open

STARTUP_TIMEOUT = 60.0


def serve_function(
    name: str,
    *,
    source: Path,
    target: str,
    port: int,
    folder: Path,
    env: Mapping[str, str],
    signature_type: str = "cloudevent",
) -> Daemon:
    """Start (or reuse) ``functions-framework`` serving ``target`` from ``source``."""
    daemon = Daemon(f"function-{name}", folder)
    if daemon.pid() is None:
        executable = shutil.which("functions-framework") or str(
            Path(sys.executable).parent / "functions-framework"
        )
        daemon.start(
            [
                executable,
                f"--source={source}",
                f"--target={target}",
                f"--signature-type={signature_type}",
                "--host=127.0.0.1",
                f"--port={port}",
            ],
            env=env,
            cwd=source.parent,
        )
    daemon.wait_until(
        lambda: port_open(port), timeout=STARTUP_TIMEOUT, what=f"function {name} on port {port}"
    )
    return daemon

"""The local stack as commands use it: ``gunj local env`` only reads whether it runs; the
commands that need it (``publish``, ``events``, ``serve``, ``local demo``) start it when it does
not, and say so on stderr first: starting it takes a while and leaves processes running."""

from __future__ import annotations

import sys

from ..localstack import stack as localstack


def running() -> localstack.Stack | None:
    """The stack, if its last ``up`` recorded one and its cluster and servers run now;
    nothing is started (and, for a stack never brought up, nothing is provisioned)."""
    recorded = localstack.recorded()
    if recorded is None:
        return None
    if not localstack.status().running:
        return None
    return recorded


def started(command: str, *, clusters: int | None = None) -> localstack.Stack:
    """The running stack, started first (saying so) when it is not running; ``clusters`` as
    ``gunj local up --clusters`` takes it."""
    if running() is None:
        print(
            f"gunj {command}: the local stack is not running: starting it "
            "(as `gunj local up` does; `gunj local down` stops it)",
            file=sys.stderr,
            flush=True,
        )
    return localstack.up(clusters=clusters)

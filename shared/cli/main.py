"""The ``gunj`` command line.

Conventions shared by every command are in :mod:`.conventions` (exit codes, ``-o/--output``,
``-`` for standard input, durations); the examples each ``--help`` ends with are in
:mod:`.examples`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from ..errors import GunjError
from ..localstack.processes import StartupError
from ..localstack.tools import ProvisionError
from . import (
    clusters,
    completion,
    conventions,
    examples,
    fleet,
    local,
    package,
    platforms,
    pubsub,
    rollout,
    spec,
    upgrades,
    version,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gunj",
        description="Keep Prometheus, Grafana, Loki and Tempo on Kubernetes clusters in their "
        "declared state.",
    )
    parser.add_argument("--version", action=version.VersionAction)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    spec.add_parsers(subparsers)
    platforms.add_parsers(subparsers)
    pubsub.add_parsers(subparsers)
    upgrades.add_parser(subparsers)
    rollout.add_parser(subparsers)
    fleet.add_parser(subparsers)
    package.add_parser(subparsers)
    local.add_parser(subparsers)
    clusters.add_parser(subparsers)
    completion.add_parser(subparsers, parser)
    for words, command in conventions.subcommands(parser):
        # Global flags are taken anywhere on the line: each subcommand accepts them too, with
        # no default of its own, so one given before the subcommand is not undone after it.
        command.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=False if not words else argparse.SUPPRESS,
            help="log progress to stderr",
        )
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        command.epilog = examples.epilog(words)
    return parser


INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""

PIPE_CLOSED = 141
"""The exit code of a command whose reader went away (128 + SIGPIPE), as shells report it."""


class _Interruption:
    """Ctrl-C: said at once, in one line, then raised as KeyboardInterrupt, whose ``finally``
    blocks on the way out (a Lease given up, a status written, request threads joined) take at
    most a request's timeout. It is remembered, because those blocks may fail in turn against a
    cluster that does not answer, and their error must not stand in for the interruption. A
    second Ctrl-C ends the process at once."""

    def __init__(self) -> None:
        self.happened = False

    def __call__(self, number: int, frame: object) -> None:
        if self.happened:
            os._exit(INTERRUPTED)
        self.happened = True
        # Written straight to the file descriptor: the signal may come in the middle of a
        # print to stderr, which Python's buffered stream would refuse to enter again.
        os.write(2, b"gunj: interrupted\n")
        raise KeyboardInterrupt


def _silence_output() -> None:
    """Point stdout and stderr at /dev/null: their reader is gone, and what is still written on
    the way out (``finally`` blocks, the interpreter's last flush) must not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            continue


def main(argv: Sequence[str] | None = None) -> int:
    # Piped into head or less: SIGPIPE stays ignored (Python's default), so a write to a closed
    # pipe raises BrokenPipeError where it happens and the work unwinds as from Ctrl-C: its
    # Lease is given up and its status written, not left to expire with a killed process.
    interruption = _Interruption()
    signal.signal(signal.SIGINT, interruption)
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_output()
        return PIPE_CLOSED
    except KeyboardInterrupt:
        code = INTERRUPTED
    except BaseException:
        if not interruption.happened:
            raise
        code = INTERRUPTED
    return INTERRUPTED if interruption.happened else code


SLOW_REQUEST_SECONDS = 3.0
"""How long a request to a cluster may go unanswered before the command says what it waits for:
an API server that is up answers within a second."""


def _say(line: str) -> None:
    """A line on stderr from another thread: written to the file descriptor at once, so it is
    not held in a buffer the main thread is using, and lost quietly when nobody reads."""
    with contextlib.suppress(OSError):
        os.write(2, f"gunj: {line}\n".encode())


def _run(argv: Sequence[str] | None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not arguments.verbose:
        # urllib3 warns of each retry of a refused connection; the command reports the failure
        # once, in one line, when the retries are spent.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    from ..kube.waiting import announce_slow_requests

    announce_slow_requests(SLOW_REQUEST_SECONDS, _say)
    try:
        code: int = arguments.handler(arguments)
    except (ProvisionError, StartupError, GunjError) as error:
        print(f"gunj: {error}", file=sys.stderr)
        transient = getattr(error, "transient", False)
        return conventions.TRANSIENT if transient else conventions.PERMANENT
    return code


if __name__ == "__main__":
    sys.exit(main())

"""The ``gunj`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from ..errors import GunjError
from ..localstack.processes import StartupError
from ..localstack.tools import ProvisionError
from . import clusters, local, package, platforms, pubsub, spec, upgrades


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gunj",
        description="Keep Prometheus, Grafana, Loki and Tempo on Kubernetes clusters in their "
        "declared state.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True)
    spec.add_parsers(subparsers)
    platforms.add_parsers(subparsers)
    pubsub.add_parsers(subparsers)
    upgrades.add_parser(subparsers)
    package.add_parser(subparsers)
    local.add_parser(subparsers)
    clusters.add_parser(subparsers)
    return parser


INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


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


def main(argv: Sequence[str] | None = None) -> int:
    # Piped into head or less: stop quietly when the reader goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    interruption = _Interruption()
    signal.signal(signal.SIGINT, interruption)
    try:
        code = _run(argv)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except BaseException:
        if not interruption.happened:
            raise
        code = INTERRUPTED
    return INTERRUPTED if interruption.happened else code


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
    try:
        code: int = arguments.handler(arguments)
    except (ProvisionError, StartupError, GunjError) as error:
        print(f"gunj: {error}", file=sys.stderr)
        return 3 if getattr(error, "transient", False) else 1
    return code


if __name__ == "__main__":
    sys.exit(main())

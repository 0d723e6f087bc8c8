"""What every ``gunj`` command shares, so each behaves as the others do.

- Exit codes, by one rule: 0 done; 1 a permanent problem (a bad spec, an unknown cluster, a
  file that cannot be read, a refusal): running the command again changes nothing; 2 a usage
  error (the command line itself); 3 transient (a cluster or chart repository out of reach, work
  deferred or unfinished): run it again later.
- ``-o/--output table|json|yaml`` on every command that prints a result.
- ``-`` for standard input wherever a file is read.
- Durations as Helm and kubectl take them (``5m``, ``90s``, ``1h30m``); a bare number is seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DONE, PERMANENT, USAGE, TRANSIENT = 0, 1, 2, 3

OUTPUTS = ("table", "json", "yaml")

STDIN = "-"


def add_output(parser: argparse.ArgumentParser, *, default: str = "table") -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=OUTPUTS,
        default=default,
        help=f"how the result is printed (default {default})",
    )


def emit(document: Any, output: str) -> None:
    """Print a result document as JSON or YAML (``output`` is not ``table``)."""
    if output == "yaml":
        import yaml

        # Through JSON first: dates and other values become the text the JSON output shows.
        plain = json.loads(json.dumps(document, default=str))
        sys.stdout.write(yaml.safe_dump(plain, sort_keys=False, default_flow_style=False))
    else:
        print(json.dumps(document, indent=2, default=str))


def duration(text: str) -> float:
    """An argparse type: seconds from ``5m``, ``90s``, ``1h30m`` or a bare number of seconds."""
    from ..values.types import _GO_DURATION_PART, go_duration_seconds

    try:
        seconds = float(text)
    except ValueError:
        if not text or _GO_DURATION_PART.sub("", text) != "":
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a duration; use e.g. 5m, 90s, 1h30m (a bare number is seconds)"
            ) from None
        seconds = go_duration_seconds(text)
    if not 0 <= seconds < float("inf"):  # also refuses NaN
        raise argparse.ArgumentTypeError(f"{text!r}: a duration is a finite time, 0 or more")
    return seconds


def input_path(text: str) -> Path:
    """An argparse type for a file that is read: ``-`` stands for standard input."""
    return Path(text)


def is_stdin(path: Path) -> bool:
    return str(path) == STDIN


def shown(path: Path) -> str:
    """A file as messages name it."""
    return "standard input" if is_stdin(path) else str(path)


def read_input(path: Path, command: str) -> bytes | None:
    """The bytes of ``path`` (``-``: standard input), or None once it has said on stderr why
    they cannot be read (the caller exits PERMANENT: a file that cannot be read is not a
    usage error, the command line was right)."""
    try:
        if is_stdin(path):
            return sys.stdin.buffer.read()
        return path.read_bytes()
    except OSError as error:
        print(f"gunj {command}: {shown(path)}: cannot read: {error.strerror}", file=sys.stderr)
        return None


def read_text(path: Path, command: str) -> str | None:
    """As :func:`read_input`, decoded as UTF-8 (saying where it is not)."""
    data = read_input(path, command)
    if data is None:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError as error:
        print(
            f"gunj {command}: {shown(path)}: not UTF-8 text (byte {error.start + 1})",
            file=sys.stderr,
        )
        return None


def subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under ``parser`` (itself first), with the words that reach it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from subcommands(child, (*path, name))

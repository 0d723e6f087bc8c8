"""Tables as the commands print them: columns padded to their widest cell, the last one not."""

from __future__ import annotations

from collections.abc import Sequence


def print_table(rows: Sequence[Sequence[str]], indent: str = "") -> None:
    """Print ``rows`` (the first is the heading); the last column is left unpadded because it
    holds free text (messages, paths) that would widen every line."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print(indent + "  ".join([*cells, row[-1]]).rstrip())

"""The values each supported chart evaluates with Helm's ``tpl``: the table in
``data/templated.yaml``, read from every template of the chart versions it names, and the
paths in it as tokens. (Kept apart from :mod:`.templating`, which checks values against it, so
that what merely names chart values, :mod:`.chart_keys`, can read it too.)"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from .. import yamlio

ANY_ITEM = "[*]"
SUBTREE = "**"
TOKEN = re.compile(r"((?:[^.\[\]\\]|\\.)+)|\[\*\]|\.")


@dataclass(frozen=True)
class TemplatedPath:
    """One value path a chart evaluates with ``tpl``."""

    path: str
    how: str
    tokens: tuple[str, ...]
    evaluations: int = 1
    manifests: bool = False
    """The chart creates the value's content as objects of its own (``extraObjects``)."""

    @property
    def subtree(self) -> bool:
        return self.tokens[-1] == SUBTREE


@dataclass(frozen=True)
class TemplatedChart:
    chart: str
    versions: tuple[str, ...]
    paths: tuple[TemplatedPath, ...]


def path_tokens(path: str) -> tuple[str, ...]:
    tokens = []
    for match in TOKEN.finditer(path):
        if match.group(0) == ".":
            continue
        key = match.group(1)
        tokens.append(ANY_ITEM if key is None else re.sub(r"\\(.)", r"\1", key))
    return tuple(tokens)


@functools.cache
def templated_charts() -> dict[str, TemplatedChart]:
    """Per component, the values its chart evaluates with ``tpl``."""
    text = resources.files(__package__).joinpath("data", "templated.yaml").read_text()
    return {
        component: TemplatedChart(
            chart=entry["chart"],
            versions=tuple(entry["versions"]),
            paths=tuple(
                TemplatedPath(
                    item["path"],
                    item["how"],
                    path_tokens(item["path"]),
                    int(item.get("evaluations", 1)),
                    bool(item.get("manifests", False)),
                )
                for item in entry["paths"]
            ),
        )
        for component, entry in yamlio.safe_load(text)["charts"].items()
    }

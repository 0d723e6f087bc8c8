"""Reading a component's complete Helm values, typed.

The values are what the chart would get: gunj's defaults, the spec's derived values and a
person's free-form ``config``, which may put anything anywhere. So every read checks the type it
expects and names the values path when it is wrong, instead of rendering an object the API
server (or the component) refuses later with a less useful message.

Keys a component needs but the values leave out take the chart's own default: each renderer
lists the chart defaults it relies on, and :func:`over_chart_defaults` lays the values over them
with Helm's merge rules, as Helm would.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...values.merge import effective, merge
from ...values.problems import format_path


class RenderError(ValueError):
    """The values cannot be rendered: a key holds the wrong type, or something required is
    missing. The message names the values path, never a value."""


def over_chart_defaults(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` over the chart defaults, with every ``null`` applied (the key removed)."""
    return effective(merge(defaults, values))


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"{type(value).__name__}"


@dataclass(frozen=True)
class Values:
    """One component's values, read by path: a path is a tuple of keys (a key may hold a dot,
    as ``grafana.ini`` does)."""

    component: str
    tree: Mapping[str, Any]

    def where(self, path: tuple[str, ...]) -> str:
        """``prometheus values server.extraFlags[0]``, ``grafana values ["grafana.ini"].log``."""
        location = [int(key) if key.isdigit() else key for key in path]
        return f"{self.component} values {format_path(location)}"

    def get(self, *path: str) -> Any:
        """The value at ``path`` (a digit names a list item), None where nothing is."""
        node: Any = self.tree
        for index, key in enumerate(path):
            if node is None:
                return None
            if isinstance(node, list) and key.isdigit():
                node = node[int(key)] if int(key) < len(node) else None
            elif isinstance(node, Mapping):
                node = node.get(key)
            else:
                raise RenderError(f"{self.where(path[:index])}: expected a mapping")
        return copy.deepcopy(node)

    def mapping(self, *path: str) -> dict[str, Any]:
        node = self.get(*path)
        if node is None:
            return {}
        if not isinstance(node, Mapping):
            raise RenderError(f"{self.where(path)}: expected a mapping, got {_kind(node)}")
        return dict(node)

    def sequence(self, *path: str) -> list[Any]:
        node = self.get(*path)
        if node is None:
            return []
        if not isinstance(node, list):
            raise RenderError(f"{self.where(path)}: expected a list, got {_kind(node)}")
        return node

    def mappings(self, *path: str) -> list[dict[str, Any]]:
        """A list whose every item is a mapping (env entries, mounts, scrape configs)."""
        items = self.sequence(*path)
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise RenderError(
                    f"{self.where((*path, str(index)))}: expected a mapping, got {_kind(item)}"
                )
        return [dict(item) for item in items]

    def text(self, *path: str, default: str = "") -> str:
        """A string; numbers are taken as their text (a size of ``10`` is ``"10"``), as a
        template would print them."""
        node = self.get(*path)
        if node is None:
            return default
        if isinstance(node, bool) or not isinstance(node, str | int | float):
            raise RenderError(f"{self.where(path)}: expected text, got {_kind(node)}")
        return str(node)

    def integer(self, *path: str, default: int) -> int:
        node = self.get(*path)
        if node is None:
            return default
        if isinstance(node, bool) or not isinstance(node, int) or node < 0:
            raise RenderError(f"{self.where(path)}: expected a whole number >= 0")
        return node

    def flag(self, *path: str, default: bool) -> bool:
        node = self.get(*path)
        if node is None:
            return default
        if not isinstance(node, bool):
            raise RenderError(f"{self.where(path)}: expected true or false, got {_kind(node)}")
        return node

"""Merging Helm values the way Helm does: maps merge key by key, lists and scalars replace, and
``null`` deletes.

A ``null`` stays in the merged result as a deletion marker: it must reach Helm, which then drops
the key from the chart's own defaults too (dropping it here would let the chart default back in).
:func:`effective` shows what is left once the markers are applied.

Functions here never modify their arguments; results share no mutable parts with them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Values = dict[str, Any]


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> Values:
    """``override`` over ``base``, following Helm's rules."""
    return merge_all(base, override)


def merge_all(*layers: Mapping[str, Any]) -> Values:
    """Left to right: each layer wins over the ones before it."""
    result: Values = {}
    for layer in layers:
        _merge_into(result, layer)
    return result


def _merge_into(target: Values, override: Mapping[str, Any]) -> None:
    """``override`` over ``target``, which this alone holds (so it is changed in place: each
    value is copied once, when it is taken from a layer)."""
    for key, value in override.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            _merge_into(current, value)
        else:
            target[key] = _copied(value)


def _copied(value: Any) -> Any:
    """A copy of a values tree (maps, lists, scalars), quicker than a generic deep copy."""
    if isinstance(value, Mapping):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return copy.deepcopy(value)


def effective(values: Mapping[str, Any]) -> Values:
    """The values with every ``null`` applied (the keys removed)."""
    return {
        key: effective(value) if isinstance(value, Mapping) else _copied(value)
        for key, value in values.items()
        if value is not None
    }


def set_path(values: Mapping[str, Any], path: str, value: Any) -> Values:
    """A copy of ``values`` with ``value`` at ``path`` (``a.b[0].c``, ``\\.`` for a literal dot)."""
    keys = parse_path(path)
    result = merge({}, values)
    node: Any = result
    for index, key in enumerate(keys):
        last = index == len(keys) - 1
        following = None if last else keys[index + 1]
        if isinstance(key, int):
            while len(node) <= key:
                node.append(None)
            if last:
                node[key] = copy.deepcopy(value)
            else:
                if not isinstance(node[key], dict | list):
                    node[key] = [] if isinstance(following, int) else {}
                node = node[key]
        elif last:
            node[key] = copy.deepcopy(value)
        else:
            if not isinstance(node.get(key), dict | list):
                node[key] = [] if isinstance(following, int) else {}
            node = node[key]
    return result


def parse_path(path: str) -> list[str | int]:
    keys: list[str | int] = []
    current = ""
    position = 0
    while position < len(path):
        char = path[position]
        if char == "\\" and position + 1 < len(path):
            current += path[position + 1]
            position += 2
            continue
        if char == ".":
            if current:
                keys.append(current)
            current = ""
        elif char == "[":
            if current:
                keys.append(current)
            current = ""
            end = path.index("]", position)
            keys.append(int(path[position + 1 : end]))
            position = end
        else:
            current += char
        position += 1
    if current:
        keys.append(current)
    return keys

"""Where two versions of an object differ: the object as it is, and as the API server says it
would be once the release's own objects are applied again (a server-side dry run). Both come
from the API server, so defaults, quantities written another way (``1`` and ``"1"``,
``1000m``) and the order of keyed lists read alike on both sides; what differs is what applying
the release would change.

Compared: everything but ``status`` and ``metadata``; of the metadata, the labels and
annotations the release sets that are missing or other (one that another party added is no
difference). A path names keys and, in a list of named items, the item by name:
``spec.template.spec.containers[name=grafana].image``. Values are never part of a path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Path = tuple[str | int, ...]
_NOT_COMPARED = {"status", "metadata"}


def differences(live: Mapping[str, Any], applied: Mapping[str, Any]) -> list[Path]:
    """Every path at which ``applied`` (the dry run's answer) differs from ``live``."""
    found: list[Path] = []
    for part in ("labels", "annotations"):
        now = (live.get("metadata") or {}).get(part) or {}
        then = (applied.get("metadata") or {}).get(part) or {}
        found += [("metadata", part, key) for key, value in then.items() if now.get(key) != value]
    for key in sorted(set(live) | set(applied)):
        if key not in _NOT_COMPARED:
            found += _differ(live.get(key, _ABSENT), applied.get(key, _ABSENT), (key,))
    return found


_ABSENT = object()


def _differ(now: Any, then: Any, at: Path) -> Iterator[Path]:
    if isinstance(now, dict) and isinstance(then, dict):
        for key in sorted(set(now) | set(then)):
            yield from _differ(now.get(key, _ABSENT), then.get(key, _ABSENT), (*at, key))
    elif isinstance(now, list) and isinstance(then, list) and len(now) == len(then):
        for index, (a, b) in enumerate(zip(now, then, strict=True)):
            yield from _differ(a, b, (*at, index))
    elif now != then:
        yield at


def readable(path: Path, live: Mapping[str, Any], applied: Mapping[str, Any]) -> str:
    """``path`` as a person reads it: keys joined by dots, a named list item by its name."""
    text = ""
    node_live: Any = live
    node_applied: Any = applied
    for step in path:
        if isinstance(step, int):
            item = _item(node_live, step) or _item(node_applied, step)
            name = item.get("name") if isinstance(item, dict) else None
            text += f"[name={name}]" if isinstance(name, str) else f"[{step}]"
        else:
            text += f".{step}" if text else step
        node_live = _child(node_live, step)
        node_applied = _child(node_applied, step)
    return text


def _item(node: Any, index: int) -> Any:
    return node[index] if isinstance(node, list) and 0 <= index < len(node) else None


def _child(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return _item(node, step)
    return node.get(step) if isinstance(node, dict) else None


def from_pointer(pointer: str) -> tuple[str, ...]:
    """The keys of a JSON pointer (RFC 6901)."""
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:])


def under(path: Path, prefix: tuple[str, ...]) -> bool:
    """Whether ``path`` lies at or below the pointer ``prefix`` (a list index matches its
    number)."""
    if len(prefix) > len(path):
        return False
    return all(str(step) == part for step, part in zip(path, prefix, strict=False))


def value_at(node: Any, path: Path) -> Any:
    for step in path:
        node = _child(node, step)
        if node is None:
            return None
    return node

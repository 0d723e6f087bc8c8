"""Who owns a field of an object: the field managers whose ``metadata.managedFields`` entry
(``fieldsV1``) holds it.

``fieldsV1`` is a tree: ``f:<key>`` for a field or map key, ``k:<json>`` for an item of a keyed
list (by its key fields), ``v:<json>`` for an item of a set, ``i:<n>`` for an item by index,
``.`` for the node itself. An empty node is owned whole (an atomic value). A manager owns a path
when its tree reaches the path, or an empty node above it.

Drift counts where the release's own manager owns the field, where nobody does (it was removed),
or where the owner is a tool people edit objects with: ``kubectl`` in all its forms, ``k9s``,
the client libraries' default names a script gets (``OpenAPI-Generator``, ``Go-http-client``),
a browser. Any other manager is a controller (the HPA's ``kube-controller-manager``, a mutating
webhook's, an operator's): what it owns is never drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .paths import Path

PEOPLES_TOOLS = (
    "kubectl",
    "k9s",
    "before-first-apply",
    "OpenAPI-Generator",
    "Go-http-client",
    "Mozilla",
)


def owners(managed_fields: Iterable[Mapping[str, Any]], path: Path, live: Any) -> set[str]:
    """The managers that own ``path`` of ``live``."""
    found = set()
    for entry in managed_fields:
        tree = entry.get("fieldsV1")
        if isinstance(tree, dict) and _reaches(tree, path, live):
            found.add(str(entry.get("manager", "")))
    return found


def is_drift(owned_by: set[str], ours: str) -> bool:
    """Whether a difference at a field with these owners is drift (the module says when)."""
    if not owned_by or ours in owned_by:
        return True
    return any(owner.startswith(PEOPLES_TOOLS) for owner in owned_by)


def _reaches(tree: Mapping[str, Any], path: Path, live: Any) -> bool:
    node: Mapping[str, Any] = tree
    value = live
    for step in path:
        if not node:
            return True  # owned whole, from here down
        if isinstance(step, str):
            child = node.get(f"f:{step}")
            value = value.get(step) if isinstance(value, dict) else None
        else:
            item = value[step] if isinstance(value, list) and 0 <= step < len(value) else None
            child = _item_node(node, step, item)
            value = item
        if not isinstance(child, dict):
            return False
        node = child
    return True


def _item_node(node: Mapping[str, Any], index: int, item: Any) -> Any:
    if f"i:{index}" in node:
        return node[f"i:{index}"]
    for key, child in node.items():
        if key.startswith("k:") and isinstance(item, dict):
            try:
                fields = json.loads(key[2:])
            except ValueError:
                continue
            if isinstance(fields, dict) and all(item.get(k) == v for k, v in fields.items()):
                return child
        elif key.startswith("v:"):
            try:
                if json.loads(key[2:]) == item:
                    return child
            except ValueError:
                continue
    return None

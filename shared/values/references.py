"""The Secrets and ConfigMaps a component's spec refers to, for showing a plan without ever
showing a secret: a plan names where each secret comes from, not what it is."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .spec.common import ComponentSpec


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, value
            yield from _walk(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def references(spec: ComponentSpec) -> list[str]:
    """One line per reference: ``Secret grafana-admin (adminCredentials.existingSecret)``."""
    found: list[str] = []
    document = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    for path, value in _walk(document, ""):
        key = path.rsplit(".", 1)[-1]
        if key.endswith("SecretRef") and isinstance(value, Mapping):
            suffix = f" key {value['key']}" if "key" in value else ""
            found.append(f"Secret {value['name']}{suffix} ({path})")
        elif key in {"existingSecret", "envFromSecret"} and isinstance(value, str):
            found.append(f"Secret {value} ({path})")
    for index, entry in enumerate(spec.values_from):
        target = f" -> {entry.target_path}" if entry.target_path else ""
        found.append(f"{entry.describe()}{target} (valuesFrom[{index}], read at apply)")
    return found

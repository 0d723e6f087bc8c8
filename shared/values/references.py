"""The Secrets and ConfigMaps a component's spec refers to, for showing a plan without ever
showing a secret: a plan names where each secret comes from, not what it is."""

from __future__ import annotations

from collections.abc import Mapping

from .problems import format_path, walk
from .spec.common import ComponentSpec


def references(spec: ComponentSpec) -> list[str]:
    """One line per reference: ``Secret grafana-admin (adminCredentials.existingSecret)``."""
    found: list[str] = []
    document = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    for location, value in walk(document):
        path, key = format_path(location), str(location[-1])
        if key.endswith("SecretRef") and isinstance(value, Mapping):
            suffix = f" key {value['key']}" if "key" in value else ""
            found.append(f"Secret {value['name']}{suffix} ({path})")
        elif key in {"existingSecret", "envFromSecret"} and isinstance(value, str):
            found.append(f"Secret {value} ({path})")
    for index, entry in enumerate(spec.values_from):
        target = f" -> {entry.target_path}" if entry.target_path else ""
        found.append(f"{entry.describe()}{target} (valuesFrom[{index}], read at apply)")
    return found

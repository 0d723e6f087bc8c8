"""``grafana.ini`` from the values' ``grafana.ini`` mapping, written as the chart writes it:
settings outside a section first, then one ``[section]`` per mapping, keys in sorted order;
strings as they are, lists as JSON, booleans as ``true``/``false``.

A line break in a key or a value would start a new setting or section of Grafana's own choosing,
so it is refused rather than written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...values.problems import format_path
from .reading import RenderError


def _where(*path: str) -> str:
    """The values path of a setting: ``grafana values ["grafana.ini"]["auth.generic_oauth"]``
    (Grafana's section names hold dots)."""
    return f"grafana values {format_path(['grafana.ini', *path])}"


def _value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str):
        text = str(value)
    elif isinstance(value, list):
        text = json.dumps(value, separators=(",", ":"))
    else:
        raise RenderError(f"{where}: a setting is text, a number, true/false or a list")
    if "\n" in text or "\r" in text:
        raise RenderError(f"{where}: a setting cannot span lines")
    return text


def _line(key: str, value: Any, *section: str) -> str:
    if not key or any(c in key for c in "\r\n[]="):
        raise RenderError(f"{_where(*section, key)}: not a valid setting name")
    return f"{key} = {_value(value, _where(*section, key))}"


def _sorted(block: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    return sorted(((str(key), value) for key, value in block.items()), key=lambda item: item[0])


def render_ini(settings: Mapping[str, Any]) -> str:
    lines = [
        _line(key, value) for key, value in _sorted(settings) if not isinstance(value, Mapping)
    ]
    for section, block in _sorted(settings):
        if not isinstance(block, Mapping):
            continue
        if not section or any(c in section for c in "\r\n[]"):
            raise RenderError(f"{_where(section)}: not a valid section name")
        lines.append(f"[{section}]")
        for key, value in _sorted(block):
            if isinstance(value, Mapping):
                raise RenderError(f"{_where(section, key)}: sections do not nest")
            lines.append(_line(key, value, section))
    return "\n".join(lines) + "\n"

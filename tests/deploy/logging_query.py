"""Cloud Logging, as far as the module's log-based metrics use it: a line a function writes to
stdout made into a LogEntry (``severity`` and ``logging.googleapis.com/*`` taken out, the rest
``jsonPayload``), a filter of the Logging query language evaluated on it, and a label or value
extractor (``EXTRACT(path)``) applied to it.

Only the filter forms the module uses are understood: comparisons joined by ``AND``, each
``path="text"``, ``path=~"regex"`` or ``path:*`` (the field is present). Anything else raises, so
a filter outside that subset fails its test instead of passing unchecked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SPECIAL = "logging.googleapis.com/"
_TERM = re.compile(r'(?P<path>[A-Za-z_][\w.]*)(?:(?P<op>=~|=)"(?P<text>(?:[^"\\]|\\.)*)"|:\*)')
_EXTRACT = re.compile(r"EXTRACT\((?P<path>[A-Za-z_][\w.]*)\)")


def log_entry(line: Mapping[str, Any], resource: Mapping[str, Any]) -> dict[str, Any]:
    """The LogEntry Cloud Run makes of a structured line a revision of ``resource`` wrote."""
    payload = {k: v for k, v in line.items() if k != "severity" and not k.startswith(SPECIAL)}
    return {"resource": dict(resource), "severity": line["severity"], "jsonPayload": payload}


def field(entry: Mapping[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def matches(query: str, entry: Mapping[str, Any]) -> bool:
    for term in query.split(" AND "):
        found = _TERM.fullmatch(term.strip())
        if found is None:
            raise ValueError(f"not a comparison this evaluator knows: {term!r}")
        value = field(entry, found["path"])
        if found["op"] is None:  # path:*
            if value is None:
                return False
            continue
        if isinstance(value, Mapping | list) or value is None:
            return False
        text = found["text"].replace('\\"', '"')
        if found["op"] == "=~":
            if re.search(text, str(value)) is None:
                return False
        elif str(value) != text:
            return False
    return True


def extract(extractor: str, entry: Mapping[str, Any]) -> Any:
    found = _EXTRACT.fullmatch(extractor)
    if found is None:
        raise ValueError(f"not an extractor this evaluator knows: {extractor!r}")
    return field(entry, found["path"])

"""The figures of one outcome, as its log line carries them under ``telemetry``: flat strings
and numbers a log-based metric's filter and label extractors can read (they cannot walk a
list), and nothing else: names, results and actions only, never a message, a value or a
secret.

A field about components (``rolled_back``, ``corrected``, ``quarantined``, ``stuck``) holds
their names sorted and joined by commas, and is absent when there are none, so a filter asks
``jsonPayload.telemetry.rolled_back:*``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# The components' states that cannot progress until the spec changes or a person acts (the
# engine's ComponentState.stuck), as the outcome document spells them.
STUCK_STATES = frozenset({"Stalled", "Held", "Failed"})
# Results that leave a platform needing a person.
STUCK_RESULTS = frozenset({"stalled", "failed"})
# A name or action as it may appear in a figure: anything else is dropped, so a hostile
# document cannot put text of its choosing (or its size) into a metric's label.
_WORD = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_. ]{0,62}")


def _word(value: Any) -> str | None:
    text = str(value) if value is not None else ""
    return text if _WORD.fullmatch(text) else None


def _joined(names: Iterable[str | None]) -> str:
    return ",".join(sorted({n for n in names if n}))


def _components(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    reports = document.get("components")
    if not isinstance(reports, list):
        return []
    return [r for r in reports if isinstance(r, Mapping)]


def _actions(report: Mapping[str, Any]) -> list[str]:
    actions = report.get("actions")
    return [str(a) for a in actions] if isinstance(actions, list | tuple) else []


def _which(reports: list[Mapping[str, Any]], action: str) -> str:
    """The components that took ``action`` (and it did not fail)."""
    return _joined(_word(r.get("component")) for r in reports if action in _actions(r))


def figures(function: str, document: Mapping[str, Any]) -> dict[str, str | float]:
    """The outcome's figures: ``function``, ``result``, ``cluster``, ``platform``,
    ``components`` (every component reported), ``actions`` (every action taken, ``upgrade``,
    ``rollback failed``...), ``duration`` (seconds), and the components ``rolled_back``,
    ``corrected`` (drift put back), ``quarantined`` and ``stuck``; ``stalled`` is ``"true"``
    when the platform's result needs a person (stalled or failed)."""
    reports = _components(document)
    result = _word(document.get("result")) or "error"
    found: dict[str, str | float] = {
        "function": _word(function) or "unknown",
        "result": result,
        "cluster": _word(document.get("cluster")) or "",
        "platform": _platform(document.get("platform")),
        "components": _joined(_word(r.get("component")) for r in reports),
        "actions": _joined(_word(a) for r in reports for a in _actions(r)),
        "rolled_back": _which(reports, "rollback"),
        "corrected": _which(reports, "correct"),
        "quarantined": _which(reports, "quarantine"),
        "stuck": _joined(
            _word(r.get("component")) for r in reports if r.get("state") in STUCK_STATES
        ),
    }
    duration = document.get("duration")
    if (
        isinstance(duration, int | float)
        and not isinstance(duration, bool)
        and math.isfinite(duration)
        and duration >= 0
    ):
        found["duration"] = float(duration)
    if result in STUCK_RESULTS:
        found["stalled"] = "true"
    return {k: v for k, v in found.items() if v != ""}


_PLATFORM = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?")


def _platform(value: Any) -> str:
    """``namespace/name``, as Kubernetes spells them, or nothing."""
    text = str(value) if value is not None else ""
    return text if _PLATFORM.fullmatch(text) else ""

"""One structured line per outcome, as Cloud Logging reads it from stdout: a JSON object with
``severity``, ``message`` and fields. Callers choose the fields; data and secrets are never
among them."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

Severity = Literal["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"]


def log_line(severity: Severity, message: str, **fields: Any) -> None:
    record = {"severity": severity, "message": message, **fields}
    sys.stdout.write(json.dumps(record, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()

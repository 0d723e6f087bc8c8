"""Cloud Function ``alertmanager`` (HTTP): Alertmanager's webhook, authenticated by a bearer
token the cluster registry lists for the clusters its alerts may act on, each alert judged like
the ``rollback`` function judges alerts from Pub/Sub.

A thin entry point: :mod:`shared.handlers.alertmanager` checks the token, refuses alerts naming
other clusters, judges the rest and reports the outcomes; the HTTP status tells Alertmanager
whether to send again (5xx).
"""

from __future__ import annotations

import json
from typing import Any

import functions_framework


@functions_framework.http
def alertmanager(request: Any) -> tuple[str, int, dict[str, str]]:
    from shared.handlers.alertmanager import handle

    status, body = handle(request.get_data(cache=False), dict(request.headers))
    return json.dumps(body), status, {"Content-Type": "application/json"}

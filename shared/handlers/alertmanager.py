"""The ``alertmanager`` function: Alertmanager's webhook (payload version 4) straight over
HTTP, for a receiver with ``http_config.authorization.credentials`` set to gunj's token.

The token is ``GUNJ_ALERTMANAGER_TOKEN``, or read from the Secret Manager secret
``GUNJ_ALERTMANAGER_TOKEN_SECRET`` (``projects/P/secrets/S``, its latest version, which the
Terraform module creates as ``<prefix>-alertmanager-token``) and kept for five minutes. A
request without it, or with another token, gets 401 and changes nothing; the comparison takes
the same time whatever the token. Each alert is judged as the Pub/Sub variant judges it; the
answer is 200 with the outcomes, or 503 when one is transient (Alertmanager sends again).
"""

from __future__ import annotations

import hmac
import json
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from ..events.alerts import InvalidAlert, parse_alerts
from .alerts import judge
from .outcomes import Redeliver, report, trace_of

FUNCTION = "alertmanager"
TOKEN_LIFETIME = 300.0
MAX_BODY = 1024 * 1024
_TOKEN: dict[str, tuple[str, float]] = {}
_LOCK = threading.Lock()


class TokenUnavailable(RuntimeError):
    """No token is configured, or Secret Manager cannot be read now."""


def expected_token(env: Mapping[str, str]) -> str:
    if env.get("GUNJ_ALERTMANAGER_TOKEN"):
        return env["GUNJ_ALERTMANAGER_TOKEN"]
    secret = env.get("GUNJ_ALERTMANAGER_TOKEN_SECRET", "")
    if not secret:
        raise TokenUnavailable("no token: set GUNJ_ALERTMANAGER_TOKEN(_SECRET)")
    with _LOCK:
        cached = _TOKEN.get(secret)
        if cached and time.monotonic() - cached[1] < TOKEN_LIFETIME:
            return cached[0]
        try:
            from google.cloud import secretmanager

            client = secretmanager.SecretManagerServiceClient()
            answer = client.access_secret_version(name=f"{secret}/versions/latest")
            token = answer.payload.data.decode().strip()
        except Exception as error:  # the client's own errors: all mean "not read now"
            raise TokenUnavailable(f"the token cannot be read: {type(error).__name__}") from None
        _TOKEN[secret] = (token, time.monotonic())
        return token


def authorized(header: str | None, env: Mapping[str, str]) -> bool:
    scheme, _, given = (header or "").partition(" ")
    expected = expected_token(env)
    # Compared whatever the scheme, so a wrong scheme takes as long as a wrong token.
    same = hmac.compare_digest(given.strip().encode(), expected.encode())
    return same and scheme.lower() == "bearer" and bool(expected)


def handle(
    body: bytes, headers: Mapping[str, str], env: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, response body) for one webhook request."""
    env = os.environ if env is None else env
    started = time.monotonic()
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if not authorized(lowered.get("authorization"), env):
            return 401, {"error": "a valid bearer token is required"}
    except TokenUnavailable as error:
        return 503, {"error": str(error)}
    if len(body) > MAX_BODY:
        return 413, {"error": f"the payload is over {MAX_BODY} bytes"}
    try:
        alerts = parse_alerts(body)
    except InvalidAlert as error:
        return 400, {"error": str(error)}
    trace = trace_of(None, headers)
    documents, transient = [], False
    for alert in alerts:
        document = judge(alert, env, started)
        try:
            report(FUNCTION, document, trace=trace, env=env)
        except Redeliver:
            transient = True
        documents.append(document)
    return (503 if transient else 200), {"outcomes": json.loads(json.dumps(documents, default=str))}

"""The ``alertmanager`` function: Alertmanager's webhook (payload version 4) straight over
HTTP, for a receiver with ``http_config.authorization.credentials`` set to a token of gunj's.

Tokens are per cluster (or per set of clusters): the cluster registry lists, in each cluster's
``alertTokens``, the SHA-256 hashes of the tokens that may act on it
(:mod:`..clusters.alerttokens`). The function holds no token of its own, only the registry.

- A request whose bearer token is listed for no cluster gets 401 and changes nothing; the
  token's hash is compared with every listed hash, each in constant time.
- Each alert of an accepted request names its cluster: one its token is not listed for is
  ``refused`` (reported and logged, naming the cluster) before anything reads that cluster;
  the others are judged as the Pub/Sub variant judges them.
- The answer is 200 with the outcomes, or 503 when one is transient (Alertmanager sends again)
  or the registry cannot be read.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

from ..clusters.alerttokens import matches
from ..clusters.errors import RegistryError
from ..events.alerts import InvalidAlert, parse_alerts
from ..events.log import log_line
from .alerts import judge
from .outcomes import Redeliver, report, trace_of
from .reconcilers import registry

FUNCTION = "alertmanager"
MAX_BODY = 1024 * 1024
# Longer than any token gunj mints, far shorter than anything worth hashing.
MAX_TOKEN = 512


def token_of(header: str | None) -> str | None:
    """The bearer token of an ``Authorization`` header, or None."""
    scheme, _, given = (header or "").strip().partition(" ")
    token = given.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN:
        return None
    return token


def clusters_of_token(token: str | None, env: Mapping[str, str]) -> frozenset[str]:
    """The registered names of the clusters ``token`` may act on (empty: none, or no token).
    Every cluster's hashes are compared, whichever matches. RegistryError when the registry
    cannot be read."""
    # A missing token is compared as an empty one, so it takes as long as a wrong one, and
    # then matches nothing whatever the registry lists.
    given = token or ""
    allowed = frozenset(c.name for c in registry(env).clusters() if matches(given, c.alert_tokens))
    return allowed if token else frozenset()


def handle(
    body: bytes, headers: Mapping[str, str], env: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, response body) for one webhook request."""
    env = os.environ if env is None else env
    started = time.monotonic()
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        allowed = clusters_of_token(token_of(lowered.get("authorization")), env)
    except RegistryError as error:
        # Said in the log, not to a caller who has not shown a token yet.
        log_line("ERROR", f"{FUNCTION}: the cluster registry cannot be read: {error}")
        return 503, {"error": "the cluster registry cannot be read"}
    if not allowed:
        return 401, {"error": "a bearer token listed in a cluster's alertTokens is required"}
    if len(body) > MAX_BODY:
        return 413, {"error": f"the payload is over {MAX_BODY} bytes"}
    try:
        alerts = parse_alerts(body)
    except InvalidAlert as error:
        return 400, {"error": str(error)}
    trace = trace_of(None, headers)
    documents, transient = [], False
    for alert in alerts:
        document = judge(alert, env, started, allowed)
        try:
            report(FUNCTION, document, trace=trace, env=env)
        except Redeliver:
            transient = True
        documents.append(document)
    return (503 if transient else 200), {"outcomes": json.loads(json.dumps(documents, default=str))}

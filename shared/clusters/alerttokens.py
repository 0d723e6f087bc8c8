"""Which Alertmanager tokens may act on a cluster: the registry entry's ``alertTokens`` field.

```yaml
prod-eu:
  gke: {project: acme, location: europe-west1, name: prod-eu}
  alertTokens:                       # SHA-256 of each token, never the token itself
    - sha256:5f0c...e1a2             # prod-eu's own Alertmanager
    - sha256:9b7d...04c3             # a relay that serves prod-eu and prod-us (listed in both)
```

An alert posted to the ``alertmanager`` function with a token may roll back components only on
the clusters whose entries list that token's hash; a token listed nowhere is refused outright
(401). The registry holds hashes only, so whoever reads it (the functions' environment,
Terraform's state, ``gunj clusters``) learns no token. ``gunj clusters token`` mints a token and
prints it once, with its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

FIELD = "alertTokens"
PREFIX = "sha256:"
_HASH = re.compile(r"sha256:[0-9a-f]{64}")
# 32 random bytes, as Python's secrets module recommends for tokens; the prefix tells a reader
# (and a secret scanner) what the string is.
TOKEN_PREFIX = "gunj_alert_"  # noqa: S105 - a prefix, not a token
TOKEN_BYTES = 32


def mint() -> str:
    """A new random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """``sha256:<hex>`` of the token's UTF-8 bytes: what the registry lists."""
    return PREFIX + hashlib.sha256(token.encode()).hexdigest()


def matches(token: str, hashes: Iterable[str]) -> bool:
    """Whether ``token`` is one of ``hashes``. Every hash is compared, each in constant time,
    so how long this takes says nothing about which hash (or how much of one) matched."""
    digest = token_hash(token).encode()
    found = False
    for known in hashes:
        found |= hmac.compare_digest(digest, known.encode())
    return found


def parse_alert_tokens(value: Any, problems: list[str]) -> tuple[str, ...]:
    """The ``alertTokens`` field of a registry entry, or () with ``problems`` added."""
    if not isinstance(value, list):
        problems.append(f"field {FIELD!r}: must be a list of token hashes (sha256:<64 hex>)")
        return ()
    found: list[str] = []
    hashes: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not _HASH.fullmatch(item):
            # Never quote the value: a token pasted here by mistake must not reach a message.
            found.append(
                f"field '{FIELD}[{index}]': not a token hash: give sha256: and 64 lower-case "
                "hex digits, as `gunj clusters token` prints (the registry never holds a token)"
            )
        elif item not in hashes:
            hashes.append(item)
    problems += found
    return () if found else tuple(hashes)

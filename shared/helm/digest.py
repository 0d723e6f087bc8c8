"""The digest of what a release holds: chart name, chart version and the complete values.

The engine compares the digest of what it wants with the digest of what Helm's storage really
holds for the current revision (decoded from the storage Secret, no Helm process). A label cannot
serve as that proof: Helm 4 carries a release's labels over to the next revision, so after a
``helm upgrade`` made by hand the label gunj set still claims the old content.

Both sides are canonicalised the way Helm stores values: as JSON, where YAML's ``1.0`` and ``1``
are the same number. Where a chart comes from (a mirror, a repository it moved to) is not part of
the digest: the same chart version with the same values is the same release.
Label values are limited to 63 characters: 48 hex digits (192 bits) are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

DIGEST_LENGTH = 48


def canonical(value: Any) -> Any:
    """``value`` as Helm's JSON storage gives it back: integral floats become ints, tuples
    lists, keys strings."""
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def content_digest(chart: str, version: str, values: Mapping[str, Any]) -> str:
    document = {"chart": chart, "version": version, "values": canonical(values)}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]

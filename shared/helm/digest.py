"""The digest of what was asked of Helm: chart reference, chart version and complete values.

It is stamped on each release as a label (:data:`shared.helm.releases.DIGEST_LABEL`), so an
in-sync release is recognised from the release's own storage, without rendering or running
``helm upgrade``. Label values are limited to 63 characters: 48 hex digits (192 bits) are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

DIGEST_LENGTH = 48


def desired_digest(repository: str, chart: str, version: str, values: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {
            "repository": repository.rstrip("/"),
            "chart": chart,
            "version": version,
            "values": values,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:DIGEST_LENGTH]

"""Limits on what one repository may cost: bytes, entries, pages and time.

Each operation on a repository (listing a chart's versions, pulling a chart) has a deadline of
its own, and every request in it a connect and a read timeout no longer than what is left, so a
hostile or slow repository fails its own platforms with an error naming it and the limit, and
no other. The defaults are generous for the real repositories (the largest public Helm indexes
are tens of megabytes; Flux allows 50 MiB and charts of 10 MiB) and can be changed through the
environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

MiB = 1024 * 1024


@dataclass(frozen=True)
class RepositoryLimits:
    index_bytes: int = 50 * MiB
    """An HTTP repository's ``index.yaml``, after decompression."""
    index_entries: int = 100_000
    """Chart names and chart versions in one index; tags in one OCI chart."""
    archive_bytes: int = 10 * MiB
    """A chart archive."""
    document_bytes: int = 4 * MiB
    """An OCI manifest, config blob, tag-list page or token answer, and a provenance file."""
    tag_pages: int = 20
    """Pages of an OCI chart's tag list."""
    fetch_seconds: float = 120.0
    """One operation on one repository, all its requests and redirects together."""
    connect_seconds: float = 10.0
    read_seconds: float = 30.0
    """Without a byte from the server."""
    redirects: int = 5

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> RepositoryLimits:
        env = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for limit in fields(cls):
            variable = ENVIRONMENT[limit.name]
            text = env.get(variable, "").strip()
            if not text:
                continue
            kind = float if limit.type == "float" else int
            try:
                value = kind(text)
            except ValueError:
                raise ValueError(f"{variable} must be a number, not {text[:40]!r}") from None
            if value <= 0:
                raise ValueError(f"{variable} must be greater than 0")
            values[limit.name] = value
        return cls(**values)  # type: ignore[arg-type]

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable that sets limit ``name``."""
        return ENVIRONMENT[name]


ENVIRONMENT = {
    "index_bytes": "GUNJ_REPOSITORY_INDEX_BYTES",
    "index_entries": "GUNJ_REPOSITORY_INDEX_ENTRIES",
    "archive_bytes": "GUNJ_REPOSITORY_ARCHIVE_BYTES",
    "document_bytes": "GUNJ_REPOSITORY_DOCUMENT_BYTES",
    "tag_pages": "GUNJ_REPOSITORY_TAG_PAGES",
    "fetch_seconds": "GUNJ_REPOSITORY_FETCH_SECONDS",
    "connect_seconds": "GUNJ_REPOSITORY_CONNECT_SECONDS",
    "read_seconds": "GUNJ_REPOSITORY_READ_SECONDS",
    "redirects": "GUNJ_REPOSITORY_REDIRECTS",
}

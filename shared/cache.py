"""Where gunj keeps what it downloads: ``GUNJ_CACHE_DIR``, else ``$XDG_CACHE_HOME/gunj``, else
``~/.cache/gunj``. On Cloud Functions set ``GUNJ_CACHE_DIR=/tmp/gunj`` (the writable disk, kept
by a warm instance between events)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    explicit = os.environ.get("GUNJ_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gunj"

"""Where the local stack keeps its tools and its running state.

``GUNJ_CACHE_DIR`` wins; otherwise ``$XDG_CACHE_HOME/gunj`` or ``~/.cache/gunj``. The cache lives
outside the repository so a fresh clone reuses tools built once per machine.
"""

from __future__ import annotations

from pathlib import Path

from ..cache import cache_root


def tools_dir() -> Path:
    """Binaries, one folder per tool and version: ``tools/<name>-<version>/``."""
    return cache_root() / "tools"


def downloads_dir() -> Path:
    """Verified downloads (wheels, .deb files), kept so a re-extraction needs no network."""
    return cache_root() / "downloads"


def stack_dir(name: str) -> Path:
    """Running state of one local stack: ports, pid files, logs, data."""
    return cache_root() / "stacks" / name

"""Where the registry is read from.

In order: ``GUNJ_CLUSTER_REGISTRY`` holding the registry itself (YAML or JSON: how the Terraform
module configures the functions, which then need no file), else the file ``GUNJ_CLUSTERS``
names, else ``$XDG_CONFIG_HOME/gunj/clusters.yaml``, else ``~/.config/gunj/clusters.yaml``.
Setting both variables is refused rather than resolved silently: one of them would be ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import RegistryError

INLINE_VARIABLE = "GUNJ_CLUSTER_REGISTRY"
FILE_VARIABLE = "GUNJ_CLUSTERS"
FILE_NAME = "clusters.yaml"


@dataclass(frozen=True)
class RegistryLocation:
    """A registry file (``path``) or the registry given inline in the environment (``inline``)."""

    path: Path | None = None
    inline: str | None = None

    def describe(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"${INLINE_VARIABLE}"

    @property
    def writable(self) -> bool:
        return self.path is not None


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def locate(env: Mapping[str, str]) -> RegistryLocation:
    inline = env.get(INLINE_VARIABLE, "")
    explicit = env.get(FILE_VARIABLE, "")
    if inline.strip() and explicit:
        raise RegistryError(
            f"${INLINE_VARIABLE}",
            [f"both {INLINE_VARIABLE} and {FILE_VARIABLE} are set: set only one of them"],
        )
    if inline.strip():
        return RegistryLocation(inline=inline)
    if explicit:
        return RegistryLocation(path=Path(explicit).expanduser().absolute())
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else _home(env) / ".config"
    return RegistryLocation(path=(base / "gunj" / FILE_NAME).absolute())

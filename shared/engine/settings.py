"""How the engine runs, from the environment (the functions' configuration, Terraform's
variables) with defaults that suit a person at the command line.

- ``GUNJ_HELM_BINARY``: the Helm binary; else ``bin/helm`` in the working directory (where a
  function archive from ``gunj package`` carries it), else ``helm`` on ``PATH``. With none of
  them the engine still runs native components (and falls back to native mode where allowed);
  anything that needs Helm fails saying so.
- ``GUNJ_CACHE_DIR``: charts, indexes and resolutions (:mod:`shared.cache`).
- ``GUNJ_VERSION_RECHECK``: seconds a version range's resolution is reused before its
  repository is asked again (default 300). An unchanged spec with a range costs no request
  within that time; a chart published meanwhile is picked up at most this much later.
- ``GUNJ_PROBE_IMAGE``: the image of gunj's verification pod (an image with ``curl``).
- ``GUNJ_PROBE_ANNOTATIONS``: JSON object of annotations for that pod (e.g. to keep a service
  mesh's sidecar out of it).
- ``GUNJ_NATIVE_FALLBACK``: ``true`` lets a component that has no Helm release yet come up in
  native mode when Helm cannot install it (no Helm binary, its chart repository cannot be
  reached).
- ``GUNJ_LEASE_SECONDS``: how long a platform's Lease lasts without renewal (default 60; it is
  renewed every third of that while a reconcile works). A reconcile that died holds its
  platform that long.
- ``GUNJ_LEASE_MAX_SECONDS``: the most a platform's Lease is believed (default 600): a
  ``leaseDurationSeconds`` beyond it counts as this much, and a holder that is not one of gunj's
  identities is obeyed for at most this long from when it took the Lease. At least
  ``GUNJ_LEASE_SECONDS``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import cache_root
from ..errors import GunjError

DEFAULT_PROBE_IMAGE = "docker.io/curlimages/curl:8.11.1"
DEFAULT_VERSION_RECHECK = 300.0
DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_LEASE_MAX_SECONDS = 600.0


class SettingsError(GunjError):
    """A setting of the environment cannot be used."""


NO_HELM = "no Helm binary: set GUNJ_HELM_BINARY, package one at bin/helm, or put helm on PATH"


@dataclass(frozen=True)
class EngineSettings:
    helm_binary: Path | None
    """None: no Helm binary was found (native mode only)."""
    cache: Path
    version_recheck: float = DEFAULT_VERSION_RECHECK
    probe_image: str = DEFAULT_PROBE_IMAGE
    probe_annotations: Mapping[str, str] = field(default_factory=dict)
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    lease_max_seconds: float = DEFAULT_LEASE_MAX_SECONDS
    native_fallback: bool = False

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> EngineSettings:
        env = os.environ if env is None else env
        packaged = Path.cwd() / "bin" / "helm"
        binary = (
            env.get("GUNJ_HELM_BINARY")
            or (str(packaged) if packaged.is_file() else None)
            or shutil.which("helm", path=env.get("PATH"))
        )
        recheck = _seconds(env, "GUNJ_VERSION_RECHECK", DEFAULT_VERSION_RECHECK)
        lease = _seconds(env, "GUNJ_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
        lease_max = _seconds(env, "GUNJ_LEASE_MAX_SECONDS", DEFAULT_LEASE_MAX_SECONDS)
        if lease_max < lease:
            raise SettingsError(
                f"GUNJ_LEASE_MAX_SECONDS: {lease_max:g} is less than GUNJ_LEASE_SECONDS ({lease:g})"
            )
        try:
            annotations = json.loads(env.get("GUNJ_PROBE_ANNOTATIONS") or "{}")
        except ValueError:
            raise SettingsError("GUNJ_PROBE_ANNOTATIONS: not a JSON object") from None
        if not isinstance(annotations, dict):
            raise SettingsError("GUNJ_PROBE_ANNOTATIONS: not a JSON object")
        return cls(
            helm_binary=Path(binary) if binary else None,
            cache=cache_root(),
            version_recheck=recheck,
            probe_image=env.get("GUNJ_PROBE_IMAGE") or DEFAULT_PROBE_IMAGE,
            probe_annotations={str(k): str(v) for k, v in annotations.items()},
            lease_seconds=lease,
            lease_max_seconds=lease_max,
            native_fallback=env.get("GUNJ_NATIVE_FALLBACK", "").lower() in {"1", "true", "yes"},
        )

    def missing_helm(self) -> str | None:
        """Why no Helm can run here (None: the binary is there)."""
        binary = self.helm_binary
        if binary is None:
            return NO_HELM
        if not binary.is_file() and not shutil.which(str(binary)):
            return f"no Helm binary at {binary} (GUNJ_HELM_BINARY)"
        return None


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name}: not a number of seconds") from None
    if value <= 0:
        raise SettingsError(f"{name}: must be more than 0 seconds")
    return value

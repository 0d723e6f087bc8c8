"""The cluster registry: every cluster gunj may act on, by name.

Read from the place ``location.py`` describes: on a workstation a file (``gunj local up``
registers the local stack's cluster in it as ``local``); in Google Cloud the
``GUNJ_CLUSTER_REGISTRY`` variable the Terraform module sets. A name that is not registered is
never guessed at: no kubeconfig or context is taken from the caller's environment.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from . import document
from .alerttokens import FIELD as ALERT_TOKENS
from .errors import RegistryError, UnknownCluster
from .google import GoogleCloud
from .location import RegistryLocation, locate
from .registered import KINDS, RegisteredCluster
from .waves import Wave, wave_order, waves

HEADER = "# gunj cluster registry: cluster name -> kubeconfig and context (see `gunj clusters`)\n"


class ClusterRegistry:
    def __init__(
        self,
        clusters: Sequence[RegisteredCluster],
        location: RegistryLocation,
        *,
        exists: bool = True,
        cloud: GoogleCloud | None = None,
    ) -> None:
        self.location = location
        self.exists = exists
        self.cloud = cloud or GoogleCloud()
        self._clusters = {cluster.name: cluster for cluster in clusters}

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, *, cloud: GoogleCloud | None = None
    ) -> ClusterRegistry:
        """The registry ``env`` (default: this process's environment) points at. A registry
        file that does not exist yet is an empty registry; one with problems raises
        RegistryError listing them all."""
        env = os.environ if env is None else env
        cloud = cloud or GoogleCloud.from_environment(env)
        location = locate(env)
        raw, exists = _read(location)
        clusters = _parse(raw, location, cloud)
        return cls(clusters, location, exists=exists, cloud=cloud)

    @property
    def source(self) -> str:
        """Where the registry was read from, for messages."""
        missing = "" if self.exists else " (the file does not exist)"
        return f"{self.location.describe()}{missing}"

    def names(self) -> list[str]:
        return sorted(self._clusters)

    def clusters(self) -> list[RegisteredCluster]:
        return [self._clusters[name] for name in self.names()]

    def waves(self, order: Sequence[str] | None = None) -> list[Wave]:
        """The clusters in their rollout waves, in order (:mod:`.waves`)."""
        return waves(self.clusters(), order or wave_order(), self.source)

    def get(self, name: str) -> RegisteredCluster:
        """The cluster registered under ``name`` (not an alias); UnknownCluster otherwise."""
        cluster = self._clusters.get(name)
        if cluster is None:
            raise UnknownCluster(name, self.source, self.names())
        return cluster

    def find(self, name_or_alias: str) -> RegisteredCluster:
        """The cluster with this name, else the one with this alias (an alert may name a
        cluster as its platform knows it, e.g. a GKE cluster's own name); UnknownCluster
        otherwise."""
        cluster = self._clusters.get(name_or_alias)
        if cluster is not None:
            return cluster
        for candidate in self._clusters.values():
            if name_or_alias in candidate.aliases:
                return candidate
        raise UnknownCluster(name_or_alias, self.source, self.names())

    def register(
        self,
        name: str,
        kubeconfig: Path,
        context: str,
        *,
        aliases: Sequence[str] | None = None,
        allow_templates: bool | None = None,
        wave: str | None = None,
    ) -> RegisteredCluster:
        """Register (or re-register) ``name`` as ``kubeconfig`` and ``context`` in the
        registry file, replacing the file atomically. Aliases and allowTemplates of an
        existing entry are kept unless given, and so is every other field of it (its
        namespaces, serviceAccount, secretManager, alertTokens and wave)."""
        raw = self._raw_file(f"cannot register {name!r}")
        found = raw.get(name)
        previous: dict[str, Any] = found if isinstance(found, dict) else {}
        entry: dict[str, Any] = {
            "kubeconfig": str(Path(kubeconfig).expanduser().absolute()),
            "context": context,
        }
        kept_aliases = list(aliases) if aliases is not None else previous.get("aliases")
        if kept_aliases:
            entry["aliases"] = kept_aliases
        templates = previous.get("allowTemplates") if allow_templates is None else allow_templates
        if templates:
            entry["allowTemplates"] = templates
        # A file entry is reached through its kubeconfig: the other kinds' fields do not carry.
        replaced = {"kubeconfig", "context", "aliases", "allowTemplates", *KINDS}
        entry.update({k: v for k, v in previous.items() if k not in replaced})
        if wave is not None:
            entry["wave"] = wave
        self._update(raw, {**raw, name: entry})
        return self._clusters[name]

    def unregister(self, name: str) -> None:
        """Remove ``name`` (a name, not an alias) from the registry file, replacing the file
        atomically; UnknownCluster when it is not there."""
        raw = self._raw_file(f"cannot remove {name!r}")
        if name not in raw:
            raise UnknownCluster(name, self.source, sorted(str(n) for n in raw))
        self._update(raw, {key: entry for key, entry in raw.items() if key != name})

    def add_alert_token(self, names: Sequence[str], token_hash: str) -> list[RegisteredCluster]:
        """List ``token_hash`` in the ``alertTokens`` of each registered cluster of ``names``
        (names, not aliases), in the registry file; UnknownCluster for a name it lacks."""
        raw = self._raw_file("cannot add an alert token")
        updated = dict(raw)
        for name in names:
            entry = raw.get(name)
            if not isinstance(entry, dict):
                raise UnknownCluster(name, self.source, sorted(raw))
            hashes = entry.get(ALERT_TOKENS, [])
            hashes = hashes if isinstance(hashes, list) else []
            if token_hash not in hashes:
                updated[name] = {**entry, ALERT_TOKENS: [*hashes, token_hash]}
        self._update(raw, updated)
        return [self._clusters[name] for name in names]

    def _raw_file(self, doing: str) -> dict[str, Any]:
        """The registry file's document as it is now (RegistryError: the registry is not a
        file)."""
        if self.location.path is None:
            raise RegistryError(self.source, [f"{doing}: the registry is not a file"])
        raw, _exists = _read(self.location)
        return raw

    def _update(self, raw: dict[str, Any], updated: dict[str, Any]) -> None:
        """Check ``updated`` as a whole, then write it in place of ``raw`` (when it differs)."""
        path = self.location.path
        assert path is not None  # noqa: S101 - _raw_file checked it
        clusters = _parse(updated, self.location, self.cloud)
        if raw != updated or not path.exists():
            _write(path, HEADER + yaml.safe_dump(updated, sort_keys=False))
        self._clusters = {cluster.name: cluster for cluster in clusters}
        self.exists = True


def _read(location: RegistryLocation) -> tuple[dict[str, Any], bool]:
    if location.path is None:
        text, exists = location.inline or "", True
    else:
        try:
            text, exists = location.path.read_text(), True
        except FileNotFoundError:
            return {}, False
        except (OSError, UnicodeDecodeError) as error:
            raise RegistryError(
                location.describe(), [f"cannot read: {type(error).__name__}: {error}"]
            ) from None
    raw, problems = document.load_yaml(text)
    if problems:
        raise RegistryError(location.describe(), problems)
    return raw, exists


def _parse(
    raw: dict[str, Any], location: RegistryLocation, cloud: GoogleCloud
) -> list[RegisteredCluster]:
    base = location.path.parent if location.path is not None else None
    clusters, problems = document.parse(raw, base, cloud)
    if problems:
        raise RegistryError(location.describe(), problems)
    return clusters


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never
    half of either; keep the file's mode (new files: 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise

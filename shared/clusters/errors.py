"""What can go wrong naming or reaching a cluster, each saying whether a retry can help.

A registry that does not parse, a cluster nobody registered, a secret that does not exist or an
identity without permission are permanent: delivering the event again changes nothing. An API
(Secret Manager, GKE, the metadata server) that cannot be reached right now is transient.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import GunjError


class RegistryError(GunjError):
    """The registry could not be read or written; ``problems`` names each cluster and field."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"cluster registry {source}:\n{listed}")


class UnknownCluster(GunjError):
    """No registered cluster has this name (or alias)."""

    def __init__(self, name: str, source: str, known: Sequence[str]) -> None:
        self.name = name
        self.source = source
        registered = ", ".join(known) if known else "none"
        super().__init__(
            f"unknown cluster {name!r}: not in the cluster registry {source} "
            f"(registered: {registered})"
        )


class ClusterConnectError(GunjError):
    """A registered cluster could not be connected to; ``transient`` is set per occurrence."""

    def __init__(self, cluster: str, message: str, *, transient: bool = False) -> None:
        self.cluster = cluster
        self.transient = transient
        super().__init__(f"cluster {cluster!r}: {message}")


class NamespaceNotAllowed(GunjError):
    """The registry allows no platform of this cluster in this namespace (nothing was done)."""


class SecretNotGranted(GunjError):
    """A cluster's registry entry does not let its specs read this Secret Manager secret."""

"""A connection to one registered cluster: the kubeconfig file and context every client and
every Helm process for that cluster must be given, and the secrets to scrub from their errors.

Nothing here reads the caller's ``KUBECONFIG``: the file is always named, and so is the context
(for a kubeconfig from a secret or built for GKE, the document's own current context, which
nobody else can change). ``secrets`` holds the bearer token or the kubeconfig's credentials
(tokens, passwords, client keys), ``documents`` the kubeconfig's whole content; both are kept out
of ``repr``. The kubeconfig's other words (cluster, user and context names, the server's
address) are no secrets: a message naming them stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .kubeconfig import PrivateKubeconfig

if TYPE_CHECKING:
    from ..kube import ClusterAccess


@dataclass(frozen=True)
class ClusterConnection:
    name: str
    kubeconfig: Path
    context: str | None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    documents: tuple[str, ...] = field(default=(), repr=False)
    """Whole documents holding ``secrets`` (scrubbed whole, never line by line)."""
    # When the credentials stop working (a GKE access token); None when they do not expire.
    expires: datetime | None = None
    _private: PrivateKubeconfig | None = field(default=None, repr=False, compare=False)

    def access(self) -> ClusterAccess:
        # Imported here: the Kubernetes client is slow to import, and a function that only
        # lists the registry should not pay for it.
        from ..kube import ClusterAccess

        return ClusterAccess(self.kubeconfig, self.context)

    def close(self) -> None:
        """Remove a kubeconfig written for this connection (a file the registry only points
        to is left alone)."""
        if self._private is not None:
            self._private.remove()

    def __enter__(self) -> ClusterConnection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

"""One registered cluster: its name, the other names alerts may use for it, whether its specs
may carry Helm template expressions, which namespaces may hold platforms and as whom they act,
which Secret Manager secrets they may read, which Alertmanager tokens may act on it, which
rollout wave it is in, and how to reach it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .connection import ClusterConnection
from .gke import GkeCluster
from .google import GoogleCloud
from .local import KubeconfigFile
from .secretgrant import SecretGrant
from .secretmanager import SecretKubeconfig
from .tenancy import Tenancy

Target = KubeconfigFile | SecretKubeconfig | GkeCluster
KINDS = (KubeconfigFile.kind, SecretKubeconfig.kind, GkeCluster.kind)


@dataclass(frozen=True)
class RegisteredCluster:
    name: str
    target: Target
    aliases: tuple[str, ...] = ()
    # Whether specs for this cluster may carry Helm template expressions ({{ ... }}) in their
    # free-form configuration; off unless the registry says so.
    allow_templates: bool = False
    tenancy: Tenancy = field(default_factory=Tenancy)
    """Where platforms may live and whose rights their work has (:mod:`.tenancy`)."""
    cloud: GoogleCloud = field(default_factory=GoogleCloud, repr=False, compare=False)
    secret_grant: SecretGrant | None = None
    """The Secret Manager secrets its specs' ``valuesFrom`` may read (None: none)."""
    alert_tokens: tuple[str, ...] = ()
    """Hashes of the Alertmanager tokens whose alerts may act on it (:mod:`.alerttokens`)."""
    wave: str | None = None
    """The rollout wave it belongs to (:mod:`.waves`; None: the last wave)."""

    @property
    def kind(self) -> str:
        return self.target.kind

    def describe(self) -> str:
        return self.target.describe()

    def connect(self) -> ClusterConnection:
        """Reach the cluster now: read its kubeconfig (or its secret, or ask GKE for its
        endpoint and a token). Raises ClusterConnectError, transient when the API that
        failed may answer later."""
        return self.target.connect(self.name, self.cloud)

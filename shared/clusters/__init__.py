"""The cluster registry: target clusters by name, each reached through one pinned kubeconfig
and context (a file, a Secret Manager secret, or a GKE cluster and the caller's own Google
identity). Importing this package loads neither the Kubernetes nor the Google client."""

from .connection import ClusterConnection
from .errors import ClusterConnectError, RegistryError, UnknownCluster
from .gke import GkeCluster
from .google import GoogleCloud
from .kubeconfig import current_context_of
from .local import KubeconfigFile
from .location import FILE_VARIABLE, INLINE_VARIABLE, RegistryLocation
from .registered import RegisteredCluster
from .registry import ClusterRegistry
from .secretmanager import SecretKubeconfig

__all__ = [
    "FILE_VARIABLE",
    "INLINE_VARIABLE",
    "ClusterConnectError",
    "ClusterConnection",
    "ClusterRegistry",
    "GkeCluster",
    "GoogleCloud",
    "KubeconfigFile",
    "RegisteredCluster",
    "RegistryError",
    "RegistryLocation",
    "SecretKubeconfig",
    "UnknownCluster",
    "current_context_of",
]

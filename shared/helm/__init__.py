"""The Helm layer: a typed client over the real Helm CLI (Helm 3.17+ and Helm 4), its errors and
the release information it reports."""

from .binary import HelmBinary
from .client import HelmClient, KubeTarget
from .errors import (
    ChartNotFound,
    ClusterUnreachable,
    HelmError,
    HelmTimeout,
    ReleaseLocked,
    ReleaseNotFound,
    RenderError,
    RepositoryUnavailable,
    ResourceRejected,
)
from .models import ChartReference, Release, ReleaseStatus, Revision, TestRun

__all__ = [
    "ChartNotFound",
    "ChartReference",
    "ClusterUnreachable",
    "HelmBinary",
    "HelmClient",
    "HelmError",
    "HelmTimeout",
    "KubeTarget",
    "Release",
    "ReleaseLocked",
    "ReleaseNotFound",
    "ReleaseStatus",
    "RenderError",
    "RepositoryUnavailable",
    "ResourceRejected",
    "Revision",
    "TestRun",
]

"""The Helm layer: a typed client over the real Helm CLI (Helm 3.17+ and Helm 4), its errors and
the release information it reports.

Names are loaded on first use (PEP 562): importing one module of the package, such as
``shared.helm.errors``, does not load the client, its models or the Kubernetes client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "HelmBinary": "binary",
    "HelmClient": "client",
    "KubeTarget": "client",
    "ChartNotFound": "errors",
    "ClusterUnreachable": "errors",
    "HelmError": "errors",
    "HelmTimeout": "errors",
    "ReleaseLocked": "errors",
    "ReleaseNotFound": "errors",
    "RenderError": "errors",
    "RepositoryUnavailable": "errors",
    "ResourceRejected": "errors",
    "ChartReference": "models",
    "Release": "models",
    "ReleaseStatus": "models",
    "Revision": "models",
    "TestRun": "models",
}
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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)

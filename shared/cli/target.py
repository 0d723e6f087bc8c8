"""Which cluster a command acts on, and how: the registered cluster, the Helm binary, and the
chart repositories (for the local stack's cluster, its own repositories mirror the upstream
ones unless ``GUNJ_REPOSITORY_MIRRORS`` says otherwise)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..clusters import ClusterRegistry
from ..engine.connect import reconciler_for
from ..engine.platform import Reconciler
from ..helm.repositories import RepositorySettings
from ..localstack import stack as localstack


def _helm_binary() -> Path:
    """GUNJ_HELM_BINARY, else helm on PATH, else the pinned Helm 3 of gunj's tool cache."""
    explicit = os.environ.get("GUNJ_HELM_BINARY") or shutil.which("helm")
    if explicit:
        return Path(explicit)
    from ..localstack import tools

    return tools.ensure_helm(3)


def _environment(kubeconfig: Path) -> dict[str, str]:
    """The process environment, with the local stack's repositories when the cluster is the
    local stack's and no mirrors are configured."""
    env = dict(os.environ)
    running = localstack.recorded()
    if (
        running is not None
        and "GUNJ_REPOSITORY_MIRRORS" not in env
        and kubeconfig.resolve() == running.kubeconfig.resolve()
    ):
        env.update(running.environment())
    return env


def repository_environment(kubeconfig: Path) -> RepositorySettings:
    """Repository settings for a cluster (the local stack's mirrors for its cluster)."""
    return RepositorySettings.from_environment(_environment(kubeconfig))


def reconciler(cluster: str) -> Reconciler:
    registered = ClusterRegistry.load().get(cluster)
    connection = registered.connect()
    env = _environment(connection.kubeconfig)
    env["GUNJ_HELM_BINARY"] = str(_helm_binary())
    return reconciler_for(registered, env, connection=connection)

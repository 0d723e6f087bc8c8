"""Which cluster a command acts on, and how: the registered cluster, the Helm binary, and the
chart repositories (for the local stack's cluster, its own repositories mirror the upstream
ones unless ``GUNJ_REPOSITORY_MIRRORS`` says otherwise). Also the local stack's clusters' own
registrations as ``local``, ``local-2``, ..."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..clusters import (
    ClusterConnection,
    ClusterRegistry,
    KubeconfigFile,
    RegisteredCluster,
    current_context_of,
)
from ..clusters.alerttokens import token_hash
from ..engine.connect import reconciler_for
from ..engine.reconciler import Reconciler
from ..errors import GunjError
from ..fleet.holds import holds_from_environment
from ..fleet.settings import DATABASE as FLEET_DATABASE
from ..fleet.settings import EMULATOR as FLEET_EMULATOR
from ..fleet.settings import PROJECT as FLEET_PROJECT
from ..helm.repositories import RepositorySettings
from ..kube import ClusterAccess
from ..localstack import clusters as localclusters
from ..localstack import stack as localstack

# The name the local stack's (first) cluster is registered under, by every command that brings
# the stack up for the functions to reach.
LOCAL_CLUSTER = localclusters.FIRST

# What access() made, kept for the process: the connection too, because a kubeconfig written
# for it (from Secret Manager, or for GKE) is removed when the connection is collected.
_ACCESS: dict[str, tuple[ClusterConnection, ClusterAccess]] = {}


def _helm_binary() -> Path:
    """GUNJ_HELM_BINARY, else helm on PATH, else the pinned Helm 3 of gunj's tool cache."""
    explicit = os.environ.get("GUNJ_HELM_BINARY") or shutil.which("helm")
    if explicit:
        return Path(explicit)
    from ..localstack import tools

    return tools.ensure_helm(3)


def _environment(kubeconfig: Path) -> dict[str, str]:
    """The process environment, with the local stack's repositories when the cluster is one of
    the local stack's and no mirrors are configured."""
    env = dict(os.environ)
    running = localstack.recorded()
    if (
        running is not None
        and "GUNJ_REPOSITORY_MIRRORS" not in env
        and kubeconfig.resolve() in {path.resolve() for path in running.kubeconfigs.values()}
    ):
        # A fleet store the process names stays its own; the stack's is the default.
        named = {k: env[k] for k in (FLEET_PROJECT, FLEET_DATABASE, FLEET_EMULATOR) if env.get(k)}
        env.update(running.environment())
        env.update(named)
    return env


def repository_environment(cluster: RegisteredCluster) -> RepositorySettings:
    """Repository settings for a registered cluster (the local stack's mirrors for its cluster),
    without connecting to it: only a kubeconfig file on this machine can be the local stack's."""
    target = cluster.target
    if isinstance(target, KubeconfigFile):
        return RepositorySettings.from_environment(_environment(target.path))
    return RepositorySettings.from_environment(os.environ)


def access(cluster: str, namespace: str | None = None) -> ClusterAccess:
    """API access to a registered cluster, for commands that only read or write its objects (no
    Helm): for work in ``namespace``, as the identity the registry names for it. Connects on
    the first call for the cluster; raises UnknownCluster, RegistryError, ClusterConnectError,
    or NamespaceNotAllowed for a namespace the registry allows no platform in."""
    registered = ClusterRegistry.load().get(cluster)
    if cluster not in _ACCESS:
        connection = registered.connect()
        _ACCESS[cluster] = (connection, connection.access())
    own = _ACCESS[cluster][1]
    return own if namespace is None else registered.tenancy.access_in(own, cluster, namespace)


def reconciler(cluster: str) -> Reconciler:
    registered = ClusterRegistry.load().get(cluster)
    connection = registered.connect()
    env = _environment(connection.kubeconfig)
    env["GUNJ_HELM_BINARY"] = str(_helm_binary())
    return reconciler_for(registered, env, connection=connection, fleet=holds_from_environment(env))


def register(running: localstack.Stack) -> None:
    """Register each of the stack's clusters under its name (``local``, ``local-2``, ...) and,
    when there are several, in a rollout wave (canary, early, main), so ``--cluster local``
    reaches the first, each with the hash of the stack's Alertmanager token in its
    ``alertTokens``, so alerts posted with that token to the served alertmanager function act on
    it. A cluster the stack no longer runs (``up --clusters`` with fewer) loses its registration
    if it still points into the stack's folder. A registry given inline (GUNJ_CLUSTER_REGISTRY)
    cannot be written: say so, the stack is up anyway."""
    from ..localstack.serving import TOKEN_FILE, alertmanager_token

    names = list(running.kubeconfigs)
    listed = f"cluster{'s' if len(names) > 1 else ''} {', '.join(repr(name) for name in names)}"
    try:
        registry = ClusterRegistry.load()
        for name, kubeconfig in running.kubeconfigs.items():
            wave = localclusters.wave_of(name, len(names))
            registry.register(name, kubeconfig, current_context_of(kubeconfig), wave=wave)
        registry.add_alert_token(names, token_hash(alertmanager_token(running)))
        dropped = _dropped_registrations(registry, running)
        for name in dropped:
            registry.unregister(name)
    except (GunjError, ValueError, OSError) as error:
        print(f"gunj: {listed} not registered: {error}", file=sys.stderr)
        return
    print(
        f"  {listed} registered in {registry.location.describe()}, "
        f"{'their' if len(names) > 1 else 'its'} alert token in {running.folder / TOKEN_FILE}"
    )
    if dropped:
        print(f"  registration of {', '.join(repr(name) for name in dropped)} removed (stopped)")


def _dropped_registrations(registry: ClusterRegistry, running: localstack.Stack) -> list[str]:
    """The stack's extra clusters the registry names that the stack does not run now; only
    entries whose kubeconfig lies in the stack's folder (a cluster of the user's own called
    ``local-2`` stays)."""
    folder = running.folder.resolve()
    dropped = []
    for cluster in registry.clusters():
        target = cluster.target
        if (
            cluster.name not in running.kubeconfigs
            and cluster.name in localclusters.extra_names_on_disk(running.folder)
            and isinstance(target, KubeconfigFile)
            and target.path.resolve().is_relative_to(folder)
        ):
            dropped.append(cluster.name)
    return dropped

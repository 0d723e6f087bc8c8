"""One reconciler per target cluster in a function instance, reused by its later events: a warm
instance keeps its API connection, the CRD it checked and the charts it pulled. A connection
whose credentials expire (a GKE token) is replaced shortly before they do."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..clusters import ClusterRegistry
from ..engine.connect import reconciler_for
from ..engine.reconciler import Reconciler
from ..fleet.holds import holds_from_environment

if TYPE_CHECKING:
    from ..kube import ClusterAccess

# A token must outlive the longest operation started with it.
RENEW_BEFORE = timedelta(minutes=15)
_LOCK = threading.Lock()
_REGISTRY: dict[int, ClusterRegistry] = {}
_RECONCILERS: dict[str, Reconciler] = {}
_CONNECTING: dict[str, threading.Lock] = {}


def registry(env: Mapping[str, str]) -> ClusterRegistry:
    key = hash(tuple(sorted(env.items())))
    with _LOCK:
        if key not in _REGISTRY:
            _REGISTRY.clear()
            _REGISTRY[key] = ClusterRegistry.load(env)
        return _REGISTRY[key]


def reconciler(cluster: str, env: Mapping[str, str]) -> Reconciler:
    """The reconciler of ``cluster`` (a name or alias); UnknownCluster if not registered."""
    registered = registry(env).find(cluster)
    with _LOCK:
        connecting = _CONNECTING.setdefault(registered.name, threading.Lock())
    # Connecting may take seconds (GKE, Secret Manager): events for other clusters go on.
    with connecting:
        current = _RECONCILERS.get(registered.name)
        expires = getattr(current.keep_alive, "expires", None) if current else None
        if current is None or (expires is not None and expires - datetime.now(UTC) < RENEW_BEFORE):
            current = reconciler_for(registered, env, fleet=holds_from_environment(env))
            _RECONCILERS[registered.name] = current
        return current


def access(cluster: str, env: Mapping[str, str], namespace: str | None = None) -> ClusterAccess:
    """How requests reach ``cluster``: for work in ``namespace``, as the identity the registry
    names for it (RefusedSpec where it allows no platform); else with the registry's own."""
    engine = reconciler(cluster, env)
    return engine.in_namespace(namespace).access if namespace is not None else engine.access

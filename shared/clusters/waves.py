"""Rollout waves: the registry puts each cluster in a wave (its ``wave`` field), and a rollout
goes through the waves in order, one wave at a time.

The order is ``GUNJ_ROLLOUT_WAVES`` (comma-separated names; the Terraform module's
``rollout_waves``), by default ``canary,early,main``. A cluster with no ``wave`` is in the last
wave, so a registry that names no waves rolls out to every cluster at once, as before. A cluster
whose wave is not in the order is a registry problem, named with its cluster and field, and no
rollout starts until it is fixed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import RegistryError
from .registered import RegisteredCluster

ORDER = "GUNJ_ROLLOUT_WAVES"
DEFAULT_ORDER = ("canary", "early", "main")


@dataclass(frozen=True)
class Wave:
    name: str
    clusters: tuple[str, ...]
    """Names of its clusters, sorted."""


def wave_order(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if env is None else env
    names = tuple(name.strip() for name in env.get(ORDER, "").split(",") if name.strip())
    return names or DEFAULT_ORDER


def waves(clusters: Sequence[RegisteredCluster], order: Sequence[str], source: str) -> list[Wave]:
    """The waves in order, each with its clusters; waves with no cluster are left out.
    RegistryError names every cluster whose wave is not in ``order``."""
    problems = [
        f"cluster {cluster.name!r}: field 'wave': {cluster.wave!r} is not one of the rollout "
        f"waves ({', '.join(order)}; set {ORDER} to change them)"
        for cluster in clusters
        if cluster.wave is not None and cluster.wave not in order
    ]
    if problems:
        raise RegistryError(source, problems)
    last = order[-1]
    members: dict[str, list[str]] = {name: [] for name in order}
    for cluster in clusters:
        members[cluster.wave or last].append(cluster.name)
    return [Wave(name, tuple(sorted(members[name]))) for name in order if members[name]]

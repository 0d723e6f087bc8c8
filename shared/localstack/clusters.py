"""The local stack's clusters: one by default, several for work across a fleet
(``gunj local up --clusters N``).

The first is the stack's cluster as it has always been: kwok's ``gunj``, its files at the top of
the stack's folder, registered as ``local``. Cluster *n* (from 2) is kwok's ``gunj-n``, its files
in ``clusters/local-n/`` of the stack's folder, registered as ``local-n``. Each is a whole cluster
of its own: API server, controller manager, scheduler and etcd on ports of its own, its own fake
nodes (named after it), stages, volume pool and volume keeper. With several, each is registered
in a rollout wave (:func:`wave_of`).

Several clusters start at once: most of a start is waiting on processes (etcd, the API server
becoming ready, kwok taking the nodes), so on two cores three clusters take little longer than one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..clusters.waves import DEFAULT_ORDER
from . import servers
from .cluster import CLUSTER_NAME, ClusterStatus, LocalCluster
from .processes import Daemon, StartupError
from .tools import Toolbox

FIRST = "local"
EXTRA_FOLDER = "clusters"
VOLUME_KEEPER = "volume-keeper"
# More would not fit two cores: each cluster is five processes, and a cluster idles at a few
# percent of a core.
MAX_CLUSTERS = 9
_EXTRA = re.compile(rf"^{FIRST}-([2-9])$")


def registered_names(count: int) -> list[str]:
    """The registered names of a stack of ``count`` clusters, the first first."""
    if not 1 <= count <= MAX_CLUSTERS:
        raise ValueError(f"clusters: {count} is not between 1 and {MAX_CLUSTERS}")
    return [FIRST, *(f"{FIRST}-{number}" for number in range(2, count + 1))]


def wave_of(registered: str, count: int) -> str | None:
    """The rollout wave the cluster is registered in: with several, the first is the canary,
    the second early and the others main (the default waves), so a rollout on the local stack
    goes through every wave; a single cluster gets none."""
    if count < 2:
        return None
    canary, early, main = DEFAULT_ORDER
    return {FIRST: canary, f"{FIRST}-2": early}.get(registered, main)


def folder_of(stack_folder: Path, registered: str) -> Path:
    """Where the cluster's files and its volume keeper's pid and log are."""
    return stack_folder if registered == FIRST else stack_folder / EXTRA_FOLDER / registered


def kwok_name(registered: str) -> str:
    """kwok's name for the cluster: its kubeconfig context is ``kwok-<name>`` and its nodes
    ``<name>-node-<i>``, so every cluster's differ."""
    if registered == FIRST:
        return CLUSTER_NAME
    match = _EXTRA.match(registered)
    if match is None:
        raise ValueError(f"{registered!r} is not a cluster of the local stack")
    return f"{CLUSTER_NAME}-{match.group(1)}"


def local_cluster(toolbox: Toolbox, stack_folder: Path, registered: str) -> LocalCluster:
    return LocalCluster(toolbox, folder_of(stack_folder, registered), name=kwok_name(registered))


def extra_names_on_disk(stack_folder: Path) -> list[str]:
    """The extra clusters ever created in the stack's folder, running or not."""
    root = stack_folder / EXTRA_FOLDER
    found = [path.name for path in root.iterdir()] if root.is_dir() else []
    return sorted((name for name in found if _EXTRA.match(name)), key=kwok_name)


def _start_one(toolbox: Toolbox, stack_folder: Path, registered: str) -> Path:
    cluster = local_cluster(toolbox, stack_folder, registered)
    try:
        cluster.start()
    except StartupError as error:
        if registered == FIRST:
            raise
        raise StartupError(f"cluster {registered}: {error}") from error
    servers.start_volume_keeper(cluster.kubeconfig, folder_of(stack_folder, registered))
    return cluster.kubeconfig


def start(toolbox: Toolbox, stack_folder: Path, names: Sequence[str]) -> dict[str, Path]:
    """Start (or reuse) the named clusters, each with its volume keeper; their kubeconfigs by
    registered name. One cluster starts as it always has, in this thread; several at once."""
    if len(names) == 1:
        return {names[0]: _start_one(toolbox, stack_folder, names[0])}
    # The clusters' ports are chosen (once, then recorded) before any binds them, each cluster's
    # apart from the others'.
    taken: set[int] = set()
    for name in names:
        taken.update(local_cluster(toolbox, stack_folder, name).ports(taken).values())
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="cluster") as pool:
        futures = {name: pool.submit(_start_one, toolbox, stack_folder, name) for name in names}
        # Every start runs to its end before an error is raised: none is left half made.
        errors = [future.exception() for future in futures.values()]
        for error in errors:
            if error is not None:
                raise error
        return {name: future.result() for name, future in futures.items()}


def stop(toolbox: Toolbox, stack_folder: Path, names: Sequence[str]) -> list[str]:
    """Stop the named clusters and their volume keepers (data kept); what was running, as
    ``cluster <name>`` and ``volume-keeper <name>``."""
    stopped = []
    for name in names:
        folder = folder_of(stack_folder, name)
        if Daemon(VOLUME_KEEPER, folder).stop():
            stopped.append(f"{VOLUME_KEEPER} {name}")
        if local_cluster(toolbox, stack_folder, name).stop():
            stopped.append(f"cluster {name}")
    return stopped


def status(toolbox: Toolbox, stack_folder: Path, names: Sequence[str]) -> dict[str, ClusterStatus]:
    """Each named cluster's status, asked of all at once (each costs a few kubectl calls)."""
    if len(names) == 1:
        return {names[0]: local_cluster(toolbox, stack_folder, names[0]).status()}
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="status") as pool:
        futures = {
            name: pool.submit(local_cluster(toolbox, stack_folder, name).status) for name in names
        }
        return {name: future.result() for name, future in futures.items()}


def volume_keeper_pid(stack_folder: Path, registered: str) -> int | None:
    return Daemon(VOLUME_KEEPER, folder_of(stack_folder, registered)).pid()

"""The whole local stack: tools, clusters (one unless asked for more), the Pub/Sub and Firestore
emulators, HTTP and OCI chart repositories.

``up`` is idempotent: every part that already runs is reused, so a second ``up`` takes seconds.
Ports and the number of clusters are chosen once and recorded in the stack folder's
``state.json``, which is also how tests and other commands find a running stack.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..helm.repositories import known_repositories
from . import chartrepo, clusters, paths, servers, tools
from .cluster import ClusterStatus, LocalCluster
from .processes import Daemon, exclusive, free_port, port_open

log = logging.getLogger(__name__)

DEFAULT_STACK = "local"
PUBSUB_PROJECT = "gunj-local"
# The project of the fleet's Firestore documents: the emulator takes any, the same as Pub/Sub's.
FLEET_PROJECT = PUBSUB_PROJECT
# Each server's daemon name and the field of its port in ``Ports``.
SERVER_PORTS = {
    "pubsub-emulator": "pubsub",
    "firestore-emulator": "firestore",
    "chart-server": "charts",
    "oci-registry": "oci",
}
SERVER_NAMES = tuple(SERVER_PORTS)
DAEMON_NAMES = (*SERVER_NAMES, clusters.VOLUME_KEEPER)


@dataclass(frozen=True)
class Ports:
    pubsub: int
    charts: int
    oci: int
    firestore: int

    @classmethod
    def from_record(cls, recorded: dict[str, int]) -> Ports:
        """The ports of ``state.json``; one it lacks (recorded before that server was part of
        the stack) is 0: that server is not running, and the next ``up`` chooses a port."""
        return cls(**{name: int(recorded.get(name, 0)) for name in cls.__dataclass_fields__})

    def of_server(self) -> dict[str, int]:
        """Each server's port, by the server's daemon name."""
        return {server: getattr(self, name) for server, name in SERVER_PORTS.items()}


@dataclass(frozen=True)
class Stack:
    """A running local stack, as its users need it."""

    name: str
    folder: Path
    kubeconfig: Path  # the first cluster's, registered as ``local``
    helm: dict[int, Path]
    kubectl: Path
    ports: Ports
    charts: list[chartrepo.PackagedChart] = field(default_factory=list)
    oci_paths: dict[str, str | None] = field(default_factory=dict)
    pubsub_project: str = PUBSUB_PROJECT
    # Every cluster's kubeconfig by registered name (``local``, ``local-2``, ...), the first first.
    kubeconfigs: dict[str, Path] = field(default_factory=dict)
    fleet_project: str = FLEET_PROJECT

    def __post_init__(self) -> None:
        if not self.kubeconfigs:
            object.__setattr__(self, "kubeconfigs", {clusters.FIRST: self.kubeconfig})

    @property
    def pubsub_host(self) -> str:
        """The value for ``PUBSUB_EMULATOR_HOST``."""
        return f"127.0.0.1:{self.ports.pubsub}"

    @property
    def firestore_host(self) -> str:
        """The value for ``FIRESTORE_EMULATOR_HOST``."""
        return f"127.0.0.1:{self.ports.firestore}"

    def repository_url(self, repository: str) -> str:
        return f"http://127.0.0.1:{self.ports.charts}/{repository}"

    def oci_url(self, path: str = "") -> str:
        return f"oci://127.0.0.1:{self.ports.oci}/{path}".rstrip("/")

    def repository_mirrors(self) -> dict[str, str]:
        """Upstream repositories mapped to the local ones that serve their test look-alikes,
        so specs naming upstream charts run against the local stack unchanged."""
        mirrors = {}
        for name, known in known_repositories().items():
            mirrors[known.url] = self.repository_url(name)
        for repository, oci_path in self.oci_paths.items():
            known_oci = known_repositories()[repository].oci
            if oci_path and known_oci:
                mirrors[known_oci] = self.oci_url(oci_path)
        return mirrors

    def environment(self) -> dict[str, str]:
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "PUBSUB_EMULATOR_HOST": self.pubsub_host,
            "PUBSUB_PROJECT_ID": self.pubsub_project,
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
            "GUNJ_FLEET_PROJECT": self.fleet_project,
            "GUNJ_CHART_REPOSITORY": f"http://127.0.0.1:{self.ports.charts}",
            "GUNJ_OCI_REGISTRY": self.oci_url(),
            "GUNJ_REPOSITORY_MIRRORS": json.dumps(self.repository_mirrors()),
            "GUNJ_PLAIN_HTTP_REGISTRIES": f"127.0.0.1:{self.ports.oci}",
        }


def _folder(name: str) -> Path:
    return paths.stack_dir(name)


def _recorded_ports(folder: Path) -> Ports | None:
    state = folder / "state.json"
    return Ports.from_record(json.loads(state.read_text())["ports"]) if state.is_file() else None


def _ports(folder: Path) -> Ports:
    """Reuse each recorded port unless another program took it while its server was down (or
    none was recorded for it yet): then choose a free one."""
    recorded = _recorded_ports(folder)
    chosen = {}
    for server, port_field in SERVER_PORTS.items():
        port = getattr(recorded, port_field) if recorded else 0
        reusable = port and (Daemon(server, folder).pid() is not None or not port_open(port))
        chosen[port_field] = port if reusable else free_port()
    return Ports(**chosen)


def _recorded_clusters(folder: Path) -> int:
    """How many clusters the stack's last ``up`` ran (1 for a stack that never recorded it)."""
    state = folder / "state.json"
    if not state.is_file():
        return 1
    count = json.loads(state.read_text()).get("clusters", 1)
    return count if isinstance(count, int) and count >= 1 else 1


def up(
    name: str = DEFAULT_STACK, chart_sources: Path | None = None, *, clusters: int | None = None
) -> Stack:
    """Start what is not running, reuse what is; one process at a time (the test tiers start
    together and each asks for the stack).

    ``clusters``: how many clusters the stack runs; None keeps what the last ``up`` recorded
    (1 at first). More than recorded adds clusters; fewer stops the extra ones, keeping their
    data for a later ``up`` that asks for them again."""
    with exclusive(_folder(name) / "up.lock"):
        return _up(name, chart_sources, clusters)


def _up(name: str, chart_sources: Path | None, count: int | None) -> Stack:
    folder = _folder(name)
    folder.mkdir(parents=True, exist_ok=True)
    recorded_count = _recorded_clusters(folder)
    names = clusters.registered_names(count or recorded_count)
    started = time.monotonic()
    toolbox = tools.provision()
    log.info("tools ready in %.1fs", time.monotonic() - started)
    ports = _ports(folder)

    servers.start_pubsub_emulator(toolbox.pubsub_emulator, folder, ports.pubsub, PUBSUB_PROJECT)
    servers.start_firestore_emulator(toolbox.firestore_emulator, folder, ports.firestore)
    dropped = clusters.registered_names(recorded_count)[len(names) :]
    if dropped:
        stopped = clusters.stop(toolbox, folder, dropped)
        log.info("stopped %s (data kept)", ", ".join(stopped) or "nothing")
    kubeconfigs = clusters.start(toolbox, folder, names)
    log.info("%d cluster(s) ready in %.1fs", len(names), time.monotonic() - started)

    sources = chart_sources or chartrepo.default_sources()
    repo_root = folder / "charts"
    charts = chartrepo.build(toolbox.helm[3], repo_root, sources)
    servers.start_chart_server(repo_root, folder, ports.charts)
    marker = folder / "oci-data" / chartrepo.DIGEST_FILE
    digest = chartrepo.sources_digest(sources)
    if marker.is_file() and marker.read_text() != digest:
        # The catalogue changed: start the registry empty, so versions that left the catalogue
        # leave the registry too (pushing only adds tags).
        Daemon("oci-registry", folder).stop()
        shutil.rmtree(folder / "oci-data")
    servers.start_oci_registry(toolbox.docker_registry, folder, ports.oci)
    catalogue = chartrepo.Catalogue.load(sources / "catalogue.yaml")
    oci_paths = {repository: spec.oci for repository, spec in catalogue.repositories.items()}
    servers.push_to_registry(
        toolbox.helm[3],
        ports.oci,
        charts,
        oci_paths=oci_paths,
        marker=marker,
        digest=digest,
    )
    log.info("stack %s up in %.1fs", name, time.monotonic() - started)

    stack = Stack(
        name=name,
        folder=folder,
        kubeconfig=kubeconfigs[clusters.FIRST],
        helm=toolbox.helm,
        kubectl=toolbox.kubectl,
        ports=ports,
        charts=charts,
        oci_paths=oci_paths,
        kubeconfigs=kubeconfigs,
    )
    (folder / "state.json").write_text(
        json.dumps(
            {
                "ports": asdict(ports),
                "clusters": len(kubeconfigs),
                "kubeconfig": str(stack.kubeconfig),
                "kubeconfigs": {key: str(path) for key, path in kubeconfigs.items()},
                "helm": {str(major): str(path) for major, path in toolbox.helm.items()},
                "kubectl": str(toolbox.kubectl),
                "oci_paths": oci_paths,
            },
            indent=2,
        )
    )
    return stack


def recorded(name: str = DEFAULT_STACK) -> Stack | None:
    """The stack as its last ``up`` recorded it, without starting anything (None: never up).
    Whether it still runs is for :func:`status` to say."""
    state = _folder(name) / "state.json"
    if not state.is_file():
        return None
    recorded = json.loads(state.read_text())
    kubeconfig = Path(recorded["kubeconfig"])
    kubeconfigs = recorded.get("kubeconfigs") or {clusters.FIRST: str(kubeconfig)}
    return Stack(
        name=name,
        folder=state.parent,
        kubeconfig=kubeconfig,
        helm={int(major): Path(path) for major, path in recorded["helm"].items()},
        kubectl=Path(recorded["kubectl"]),
        ports=Ports.from_record(recorded["ports"]),
        oci_paths=recorded.get("oci_paths") or {},
        kubeconfigs={key: Path(path) for key, path in kubeconfigs.items()},
    )


def down(name: str = DEFAULT_STACK) -> list[str]:
    """Stop every part, every cluster ever started in the stack's folder included; return the
    names of what was running. The data is kept, and so is the number of clusters: the next
    ``up`` starts as many."""
    folder = _folder(name)
    stopped = [daemon for daemon in DAEMON_NAMES if Daemon(daemon, folder).stop()]
    toolbox = tools.provision()
    if LocalCluster(toolbox, folder).stop():
        stopped.append("cluster")
    stopped += clusters.stop(toolbox, folder, clusters.extra_names_on_disk(folder))
    return stopped


@dataclass(frozen=True)
class StackStatus:
    name: str
    cluster: ClusterStatus  # the first's, registered as ``local``
    servers: dict[str, int | None]
    ports: Ports | None
    # Every cluster of the stack by registered name, the first first, and the pid of each one's
    # volume keeper (the first's is also in ``servers``).
    clusters: dict[str, ClusterStatus] = field(default_factory=dict)
    volume_keepers: dict[str, int | None] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """Every cluster and every server runs."""
        return (
            all(cluster.running for cluster in self.clusters.values())
            and all(self.servers.values())
            and all(self.volume_keepers.values())
        )


def status(name: str = DEFAULT_STACK) -> StackStatus:
    folder = _folder(name)
    ports = _recorded_ports(folder)
    toolbox = tools.provision()
    names = clusters.registered_names(_recorded_clusters(folder))
    statuses = clusters.status(toolbox, folder, names)
    return StackStatus(
        name=name,
        cluster=statuses[clusters.FIRST],
        servers={daemon: Daemon(daemon, folder).pid() for daemon in DAEMON_NAMES},
        ports=ports,
        clusters=statuses,
        volume_keepers={key: clusters.volume_keeper_pid(folder, key) for key in names},
    )

"""The whole local stack: tools, cluster, Pub/Sub emulator, HTTP and OCI chart repositories.

``up`` is idempotent: every part that already runs is reused, so a second ``up`` takes seconds.
Ports are chosen once and recorded in the stack folder's ``state.json``, which is also how tests
and other commands find a running stack.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..helm.repositories import known_repositories
from . import chartrepo, paths, servers, tools
from .cluster import ClusterStatus, LocalCluster
from .processes import Daemon, exclusive, free_port, port_open

log = logging.getLogger(__name__)

DEFAULT_STACK = "local"
PUBSUB_PROJECT = "gunj-local"
SERVER_NAMES = ("pubsub-emulator", "chart-server", "oci-registry")
DAEMON_NAMES = (*SERVER_NAMES, "volume-keeper")


@dataclass(frozen=True)
class Ports:
    pubsub: int
    charts: int
    oci: int


@dataclass(frozen=True)
class Stack:
    """A running local stack, as its users need it."""

    name: str
    folder: Path
    kubeconfig: Path
    helm: dict[int, Path]
    kubectl: Path
    ports: Ports
    charts: list[chartrepo.PackagedChart] = field(default_factory=list)
    oci_paths: dict[str, str | None] = field(default_factory=dict)
    pubsub_project: str = PUBSUB_PROJECT

    @property
    def pubsub_host(self) -> str:
        """The value for ``PUBSUB_EMULATOR_HOST``."""
        return f"127.0.0.1:{self.ports.pubsub}"

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
            "GUNJ_CHART_REPOSITORY": f"http://127.0.0.1:{self.ports.charts}",
            "GUNJ_OCI_REGISTRY": self.oci_url(),
            "GUNJ_REPOSITORY_MIRRORS": json.dumps(self.repository_mirrors()),
            "GUNJ_PLAIN_HTTP_REGISTRIES": f"127.0.0.1:{self.ports.oci}",
        }


def _folder(name: str) -> Path:
    return paths.stack_dir(name)


def _ports(folder: Path) -> Ports:
    """Reuse the recorded ports unless another program took one while the stack was down."""
    state = folder / "state.json"
    if state.is_file():
        recorded = json.loads(state.read_text())["ports"]
        ports = Ports(**recorded)
        daemons = dict(zip(SERVER_NAMES, (ports.pubsub, ports.charts, ports.oci), strict=True))
        if all(
            Daemon(name, folder).pid() is not None or not port_open(port)
            for name, port in daemons.items()
        ):
            return ports
    return Ports(pubsub=free_port(), charts=free_port(), oci=free_port())


def up(name: str = DEFAULT_STACK, chart_sources: Path | None = None) -> Stack:
    """Start what is not running, reuse what is; one process at a time (the test tiers start
    together and each asks for the stack)."""
    with exclusive(_folder(name) / "up.lock"):
        return _up(name, chart_sources)


def _up(name: str, chart_sources: Path | None) -> Stack:
    folder = _folder(name)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    toolbox = tools.provision()
    log.info("tools ready in %.1fs", time.monotonic() - started)
    ports = _ports(folder)

    servers.start_pubsub_emulator(toolbox.pubsub_emulator, folder, ports.pubsub, PUBSUB_PROJECT)
    cluster = LocalCluster(toolbox, folder)
    cluster.start()
    servers.start_volume_keeper(cluster.kubeconfig, folder)
    log.info("cluster ready in %.1fs", time.monotonic() - started)

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
        kubeconfig=cluster.kubeconfig,
        helm=toolbox.helm,
        kubectl=toolbox.kubectl,
        ports=ports,
        charts=charts,
        oci_paths=oci_paths,
    )
    (folder / "state.json").write_text(
        json.dumps(
            {
                "ports": asdict(ports),
                "kubeconfig": str(stack.kubeconfig),
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
    return Stack(
        name=name,
        folder=state.parent,
        kubeconfig=Path(recorded["kubeconfig"]),
        helm={int(major): Path(path) for major, path in recorded["helm"].items()},
        kubectl=Path(recorded["kubectl"]),
        ports=Ports(**recorded["ports"]),
        oci_paths=recorded.get("oci_paths") or {},
    )


def down(name: str = DEFAULT_STACK) -> list[str]:
    """Stop every part; return the names of what was running."""
    folder = _folder(name)
    stopped = [daemon for daemon in DAEMON_NAMES if Daemon(daemon, folder).stop()]
    toolbox = tools.provision()
    if LocalCluster(toolbox, folder).stop():
        stopped.append("cluster")
    return stopped


@dataclass(frozen=True)
class StackStatus:
    name: str
    cluster: ClusterStatus
    servers: dict[str, int | None]
    ports: Ports | None


def status(name: str = DEFAULT_STACK) -> StackStatus:
    folder = _folder(name)
    state = folder / "state.json"
    ports = Ports(**json.loads(state.read_text())["ports"]) if state.is_file() else None
    toolbox = tools.provision()
    return StackStatus(
        name=name,
        cluster=LocalCluster(toolbox, folder).status(),
        servers={daemon: Daemon(daemon, folder).pid() for daemon in DAEMON_NAMES},
        ports=ports,
    )

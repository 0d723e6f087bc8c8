"""The local Kubernetes cluster: a real API server, controller manager, scheduler and etcd, run by
``kwokctl --runtime binary`` from the pinned binaries (nothing is downloaded), with kwok faking
the nodes and the pod lifecycle.

Starting reuses a running cluster, restarts a stopped one, and recreates one whose configuration
(binaries, stages) changed. There is no storage provisioner: see :mod:`.volumes` for the pool of
static PersistentVolumes that the real PV controller binds claims to.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..kube import ClusterAccess
from . import nodes, pins, stages, volumes
from .processes import StartupError, free_port, port_open, wait_reaped
from .tools import Toolbox

log = logging.getLogger(__name__)

CLUSTER_NAME = "gunj"
CLUSTER_PORTS = (
    "kubeApiserverPort",
    "etcdPort",
    "etcdPeerPort",
    "kwokControllerPort",
    "kubeControllerManagerPort",
    "kubeSchedulerPort",
)


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    running: bool
    kubeconfig: Path
    server: str | None
    version: str | None
    nodes_ready: int


class LocalCluster:
    def __init__(self, tools: Toolbox, stack: Path, name: str = CLUSTER_NAME) -> None:
        self.tools = tools
        self.name = name
        self.workdir = stack / "kwok"
        self.config_path = stack / "kwokctl.yaml"

    # --- paths and commands ------------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "clusters" / self.name / "kubeconfig.yaml"

    def _env(self) -> dict[str, str]:
        # kwokctl finds kubectl on PATH for some operations; give it the pinned one.
        path = f"{self.tools.kubectl.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "KWOK_WORKDIR": str(self.workdir), "PATH": path}

    def kwokctl(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.tools.kwokctl), "--name", self.name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.tools.kubectl), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise StartupError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result

    # --- configuration -----------------------------------------------------------------------

    def _configuration(self) -> list[dict[str, Any]]:
        tools = self.tools
        options = {
            "runtime": "binary",
            "bindAddress": "127.0.0.1",
            "kubeVersion": pins.KUBE_VERSION,
            "etcdVersion": pins.ETCD.version,
            "kwokVersion": pins.KWOK.version,
            "kubeApiserverBinary": str(tools.kube_apiserver),
            "kubeControllerManagerBinary": str(tools.kube_controller_manager),
            "kubeSchedulerBinary": str(tools.kube_scheduler),
            "kubectlBinary": str(tools.kubectl),
            "etcdBinary": str(tools.etcd),
            "kwokControllerBinary": str(tools.kwok),
            "quietPull": True,
            # kubelet's heartbeats (40 s leases, 40 s grace) rather than kwokctl's default of five
            # times them: a killed kwok's leases then hold its successor off for 40 s, not 200.
            "heartbeatFactor": 1,
            "nodeLeaseDurationSeconds": nodes.LEASE_DURATION_SECONDS,
            **self.ports(),
        }
        config = {
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "kind": "KwokctlConfiguration",
            "options": options,
        }
        return [config, *stages.all_stages(tools.kwokctl.parent)]

    @property
    def _ports_path(self) -> Path:
        return self.config_path.with_name("cluster-ports.json")

    def ports(self, taken: Collection[int] = ()) -> dict[str, int]:
        """The cluster's ports: chosen once from the ephemeral range and kept. kwokctl's own
        choice starts from one fixed number, so two stacks on a machine would collide. A free
        port is free only until it is bound: the choice leaves out the ports already chosen and
        ``taken`` (the other clusters' of the stack, chosen but maybe not bound yet)."""
        if self._ports_path.is_file():
            ports: dict[str, int] = json.loads(self._ports_path.read_text())
            if set(ports) == set(CLUSTER_PORTS):
                return ports
        chosen: dict[str, int] = {}
        for option in CLUSTER_PORTS:
            port = free_port()
            while port in taken or port in chosen.values():
                port = free_port()
            chosen[option] = port
        self._ports_path.parent.mkdir(parents=True, exist_ok=True)
        self._ports_path.write_text(json.dumps(chosen, indent=2))
        return chosen

    def _check_ports_free(self) -> None:
        """Before starting a stopped cluster: its ports must not have been taken meanwhile."""
        taken = {option: port for option, port in self.ports().items() if port_open(port)}
        if taken:
            listing = ", ".join(f"{port} ({option})" for option, port in sorted(taken.items()))
            raise StartupError(
                f"cluster {self.name} is stopped but its ports are in use by another program: "
                f"{listing}. Stop that program, or delete {self.workdir} to start afresh."
            )

    def _write_configuration(self) -> str:
        """Write the kwokctl configuration; return its digest."""
        documents = self._configuration()
        text = yaml.safe_dump_all(documents, sort_keys=True)
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(text)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def _digest_path(self) -> Path:
        return self.workdir / f"{self.name}.config-digest"

    # --- lifecycle ---------------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.workdir / "clusters" / self.name / "kwok.yaml").is_file()

    def api_ready(self) -> bool:
        if not self.kubeconfig.is_file():
            return False
        result = self.kubectl("get", "--raw", "/readyz", check=False)
        return result.returncode == 0 and result.stdout.strip() == "ok"

    def start(self, timeout: float = 180) -> ClusterStatus:
        """Start the cluster, reusing it when it is running with the same configuration."""
        digest = self._write_configuration()
        started = datetime.now(UTC)
        recorded = self._digest_path.read_text() if self._digest_path.is_file() else None
        if self.exists() and recorded != digest:
            self.delete()
        if not self.exists():
            self._create(timeout)
            self._digest_path.write_text(digest)
        elif not self.api_ready():
            self._check_ports_free()
            wait_reaped(self.recorded_pids())
            result = self.kwokctl(
                "start", "cluster", "--wait", f"{int(timeout)}s", timeout=timeout + 30
            )
            if result.returncode != 0:
                raise StartupError(f"kwokctl start cluster failed: {result.stderr.strip()}")
        self._wait_api(timeout)
        access = ClusterAccess(self.kubeconfig)
        self._ensure_nodes(access, started, timeout)
        self._ensure_storage(access)
        return self.status()

    def recorded_pids(self) -> list[int]:
        """The pids kwokctl recorded for the cluster's processes (it starts a component only
        when its recorded pid is not alive)."""
        pids = []
        for pid_file in (self.workdir / "clusters" / self.name / "pids").glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                pids.append(int(pid_file.read_text()))
        return pids

    def _create(self, timeout: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        result = self.kwokctl(
            "create",
            "cluster",
            "--config",
            str(self.config_path),
            "--wait",
            f"{int(timeout)}s",
            "--timeout",
            f"{int(timeout)}s",
            timeout=timeout + 60,
        )
        if result.returncode != 0:
            raise StartupError(f"kwokctl create cluster failed:\n{result.stderr.strip()[-3000:]}")

    def _wait_api(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api_ready():
                return
            time.sleep(0.5)
        raise StartupError(
            f"the API server of cluster {self.name} is not ready after "
            f"{timeout:.0f}s; logs under {self.workdir / 'clusters' / self.name}"
        )

    def stop(self, timeout: float = 30) -> bool:
        """Stop the cluster's processes and wait until their ports are released."""
        if not self.exists():
            return False
        result = self.kwokctl("stop", "cluster")
        deadline = time.monotonic() + timeout
        while any(port_open(port) for port in self.ports().values()):
            if time.monotonic() > deadline:
                raise StartupError(f"cluster {self.name} still listens {timeout:.0f}s after stop")
            time.sleep(0.2)
        return result.returncode == 0

    def delete(self) -> None:
        self.kwokctl("delete", "cluster")
        self._digest_path.unlink(missing_ok=True)

    def status(self) -> ClusterStatus:
        running = self.api_ready()
        server = version = None
        nodes_ready = 0
        if running:
            config = yaml.safe_load(self.kubeconfig.read_text())
            server = config["clusters"][0]["cluster"]["server"]
            raw = self.kubectl("get", "--raw", "/version").stdout
            version = json.loads(raw)["gitVersion"]
            nodes = json.loads(self.kubectl("get", "nodes", "-o", "json").stdout)["items"]
            nodes_ready = sum(
                1
                for node in nodes
                for condition in node["status"].get("conditions", [])
                if condition["type"] == "Ready" and condition["status"] == "True"
            )
        return ClusterStatus(self.name, running, self.kubeconfig, server, version, nodes_ready)

    # --- nodes and storage -------------------------------------------------------------------

    def _ensure_nodes(self, access: ClusterAccess, started: datetime, timeout: float) -> None:
        """Create the fake nodes; return once kwok fakes them (see :mod:`.nodes` for why a
        restart releases the leases a killed kwok left behind)."""
        names = nodes.node_names(self.name)
        nodes.ensure_nodes(access, names)
        released = nodes.release_stale_leases(access, names, started)
        if released:
            log.info("released node leases a stopped kwok held: %s", ", ".join(released))
        nodes.wait_until_managed(access, names, started, timeout)
        self.kubectl("wait", "--for=condition=Ready", "node", "--all", f"--timeout={timeout:.0f}s")

    def _ensure_storage(self, access: ClusterAccess) -> None:
        volumes.ensure_storage_class(access)
        volumes.replenish(access)

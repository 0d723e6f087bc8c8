"""The servers of the local stack besides the clusters: the Pub/Sub and Firestore emulators, the
HTTP chart repository and the OCI registry, each bound to 127.0.0.1 on its recorded port; and the
keeper of each cluster's volume pool. Each is reused when already running.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from .chartrepo import PackagedChart
from .processes import Daemon, http_ok
from .tools import ProvisionError

STARTUP_TIMEOUT = 60.0


def start_pubsub_emulator(emulator: Path, folder: Path, port: int, project: str) -> Daemon:
    daemon = Daemon("pubsub-emulator", folder)
    if daemon.pid() is None:
        daemon.start([str(emulator), "--host=127.0.0.1", f"--port={port}", f"--projects={project}"])
    daemon.wait_until(
        lambda: http_ok(f"http://127.0.0.1:{port}/"),
        timeout=STARTUP_TIMEOUT,
        what=f"Pub/Sub emulator on 127.0.0.1:{port}",
    )
    return daemon


def start_firestore_emulator(jar: Path, folder: Path, port: int) -> Daemon:
    """The SDK's Firestore emulator, run as its launcher script runs it (English messages, the
    only ones it has), minus the script. Its other listeners (WebSocket, WebChannel) take free
    ports of 127.0.0.1 as well."""
    daemon = Daemon("firestore-emulator", folder)
    if daemon.pid() is None:
        daemon.start(
            [
                "java",
                "-Duser.language=en",
                "-cp",
                str(jar),
                "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
                "start",
                "--host=127.0.0.1",
                f"--port={port}",
            ]
        )
    daemon.wait_until(
        lambda: http_ok(f"http://127.0.0.1:{port}/"),
        timeout=STARTUP_TIMEOUT,
        what=f"Firestore emulator on 127.0.0.1:{port}",
    )
    return daemon


def start_chart_server(root: Path, folder: Path, port: int) -> Daemon:
    daemon = Daemon("chart-server", folder)
    if daemon.pid() is None:
        daemon.start(
            [
                sys.executable,
                "-m",
                "shared.localstack.chartserver",
                "--root",
                str(root),
                "--port",
                str(port),
            ]
        )
    daemon.wait_until(
        lambda: http_ok(f"http://127.0.0.1:{port}/prometheus-community/index.yaml"),
        timeout=STARTUP_TIMEOUT,
        what=f"chart repository on 127.0.0.1:{port}",
    )
    return daemon


def start_volume_keeper(kubeconfig: Path, folder: Path) -> Daemon:
    daemon = Daemon("volume-keeper", folder)
    if daemon.pid() is None:
        daemon.start(
            [
                sys.executable,
                "-m",
                "shared.localstack.volumekeeper",
                "--kubeconfig",
                str(kubeconfig),
            ]
        )
    return daemon


def start_oci_registry(registry: Path, folder: Path, port: int) -> Daemon:
    daemon = Daemon("oci-registry", folder)
    if daemon.pid() is None:
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {
                "filesystem": {"rootdirectory": str(folder / "oci-data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": f"127.0.0.1:{port}"},
        }
        config_path = folder / "oci-registry.yaml"
        folder.mkdir(parents=True, exist_ok=True)
        config_path.write_text(yaml.safe_dump(config))
        daemon.start([str(registry), "serve", str(config_path)])
    daemon.wait_until(
        lambda: http_ok(f"http://127.0.0.1:{port}/v2/"),
        timeout=STARTUP_TIMEOUT,
        what=f"OCI registry on 127.0.0.1:{port}",
    )
    return daemon


def push_to_registry(
    helm: Path,
    port: int,
    charts: list[PackagedChart],
    *,
    oci_paths: dict[str, str | None],
    marker: Path,
    digest: str,
) -> None:
    """Push every chart of a repository that has an OCI path; skip when already pushed."""
    if marker.is_file() and marker.read_text() == digest:
        return
    for chart in charts:
        oci_path = oci_paths.get(chart.repository)
        if oci_path is None:
            continue
        result = subprocess.run(
            [
                str(helm),
                "push",
                str(chart.path),
                f"oci://127.0.0.1:{port}/{oci_path}",
                "--plain-http",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ProvisionError(f"helm push {chart.name} {chart.version}: {result.stderr.strip()}")
    marker.write_text(digest)

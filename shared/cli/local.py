"""``gunj local``: the local stack (tools, clusters, Pub/Sub and Firestore emulators, chart
repositories)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from ..engine.resource import read_platform
from ..kube.events import object_events
from ..localstack import clusters, serving, stack
from ..localstack.cluster import ClusterStatus
from ..values.validation import load_platform
from . import platforms, pubsub, stackuse, target
from .conventions import DONE, PERMANENT, add_output, duration, emit, read_text
from .target import LOCAL_CLUSTER, register

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "minimal.yaml"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    local = subparsers.add_parser("local", help="run the local stack on 127.0.0.1")
    commands = local.add_subparsers(dest="local_command", required=True)
    up = commands.add_parser("up", help="provision tools and start (or reuse) the stack")
    add_clusters(up)
    commands.add_parser("down", help="stop the stack, every cluster of it (data is kept)")
    add_output(commands.add_parser("status", help="show what runs and where"))
    commands.add_parser(
        "env",
        help="print shell exports for the running stack (starts nothing: exit 1 when none runs)",
    )
    demo = commands.add_parser(
        "demo",
        help="bring the stack up, serve the functions, publish a platform spec through Pub/Sub "
        "and show it come up: its status and the events it produced",
    )
    demo.add_argument(
        "spec", nargs="?", type=Path, default=EXAMPLE, help=f"the spec (default {EXAMPLE})"
    )
    demo.add_argument(
        "--timeout",
        type=duration,
        default=600.0,
        metavar="DURATION",
        help="how long to wait for the outcome (e.g. 10m, 90s; default 10m)",
    )
    add_clusters(demo)
    local.set_defaults(handler=run)


def cluster_count(text: str) -> int:
    """An argparse type: a number of clusters the local stack can run."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= clusters.MAX_CLUSTERS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of clusters from 1 to {clusters.MAX_CLUSTERS}"
        )
    return count


def add_clusters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clusters",
        type=cluster_count,
        metavar="N",
        help="run N clusters, registered as local, local-2, ... (default: as many as run "
        "now, 1 at first; fewer stops the extra ones, keeping their data)",
    )


def run(arguments: argparse.Namespace) -> int:
    command = arguments.local_command
    if command == "up":
        running = stack.up(clusters=arguments.clusters)
        print_stack(running)
        register(running)
        os.environ["PUBSUB_EMULATOR_HOST"] = running.pubsub_host
        if serving.reconnect(running) is not None:
            print("  served functions: topics and push subscriptions in place")
        return 0
    if command == "down":
        recorded = stack.recorded()
        stopped = serving.stop(recorded.folder) if recorded else []
        stopped += stack.down()
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        return 0
    if command == "status":
        return print_status(arguments.output)
    if command == "env":
        found = stackuse.running()
        if found is None:
            print(
                "gunj local env: no local stack is running (start it with `gunj local up`)",
                file=sys.stderr,
            )
            return PERMANENT
        for key, value in found.environment().items():
            print(f"export {key}={shlex.quote(value)}")
        return DONE
    return demo(arguments.spec, arguments.timeout, arguments.clusters)


def print_stack(running: stack.Stack) -> None:
    print(f"local stack {running.name!r} is up")
    for key, value in running.environment().items():
        print(f"  {key}={value}")
    print(
        f"  charts: {len(running.charts)} versions in "
        f"{len({c.repository for c in running.charts})} repositories"
    )
    if len(running.kubeconfigs) > 1:
        print(f"  clusters: {len(running.kubeconfigs)}")
        for name, kubeconfig in running.kubeconfigs.items():
            print(f"    {name:10} KUBECONFIG={kubeconfig}")


def _cluster_document(status: ClusterStatus, keeper: int | None) -> dict[str, object]:
    return {
        "name": status.name,
        "running": status.running,
        "version": status.version if status.running else None,
        "server": status.server if status.running else None,
        "nodesReady": status.nodes_ready if status.running else None,
        "kubeconfig": str(status.kubeconfig),
        "volumeKeeper": {"pid": keeper},
    }


def _running(pid: int | None) -> str:
    return f"running (pid {pid})" if pid else "stopped"


def print_status(output: str = "table") -> int:
    current = stack.status()
    cluster = current.cluster
    running = current.running
    ports = current.ports
    if output != "table":
        emit(
            {
                "stack": current.name,
                "running": running,
                # The first cluster, registered as `local`; every one is in `clusters`.
                "cluster": {
                    "name": cluster.name,
                    "running": cluster.running,
                    "version": cluster.version if cluster.running else None,
                    "server": cluster.server if cluster.running else None,
                    "nodesReady": cluster.nodes_ready if cluster.running else None,
                },
                "clusters": {
                    registered: _cluster_document(status, current.volume_keepers.get(registered))
                    for registered, status in current.clusters.items()
                },
                "servers": {name: {"pid": pid} for name, pid in current.servers.items()},
                "ports": vars(ports) if ports else None,
            },
            output,
        )
        return 0 if running else 1
    for registered, status in current.clusters.items():
        line = f"cluster {status.name}: {'running' if status.running else 'stopped'}"
        if status.running:
            line += f", {status.version} at {status.server}, {status.nodes_ready} nodes Ready"
        print(line + (f" (registered as {registered})" if len(current.clusters) > 1 else ""))
    port_of = ports.of_server() if ports else {}
    for server, pid in current.servers.items():
        port = port_of.get(server)  # the volume keeper listens on no port
        print(f"{server}: {_running(pid)} {f'127.0.0.1:{port}' if port else '-'}")
    for registered, pid in current.volume_keepers.items():
        if registered != clusters.FIRST:  # the first's is listed with the servers
            print(f"volume-keeper {registered}: {_running(pid)} -")
    return 0 if running else 1


def demo(spec: Path, timeout: float, cluster_count: int | None = None) -> int:
    """The product on the local stack, as a platform team uses it: publish a spec to Pub/Sub,
    the reconcile function applies it to the cluster, and the outcome comes back."""
    text = read_text(spec, "local demo")
    if text is None:
        return PERMANENT
    running = stackuse.started("local demo", clusters=cluster_count)
    print_stack(running)
    register(running)
    os.environ["PUBSUB_EMULATOR_HOST"] = running.pubsub_host
    served = serving.serve(running)
    print("\nfunctions served by functions-framework, fed by the Pub/Sub emulator:")
    for function, port in served.ports.items():
        print(f"  {function:10} http://127.0.0.1:{port}/")
    print(f"\npublishing {spec} to platform-specs for cluster {LOCAL_CLUSTER!r}")
    followed = pubsub.publish(
        pubsub.emulator(running),
        text,
        cluster=LOCAL_CLUSTER,
        source=f"gunj local demo {spec.name}",
        timeout=timeout,
    )
    cluster = target.access(LOCAL_CLUSTER)
    platform = load_platform(text)
    stored = read_platform(cluster, platform.metadata.namespace, platform.metadata.name)
    if stored is not None:
        print()
        platforms.print_status(stored)
    print(f"\nevents of {platform.metadata.namespace}/{platform.metadata.name}:")
    for kind, reason, message in object_events(
        cluster, platform.metadata.namespace, platform.metadata.name
    )[-12:]:
        print(f"  {kind:7} {reason:16} {message[:120]}")
    return followed.exit_code

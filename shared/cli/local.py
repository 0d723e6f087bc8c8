"""``gunj local``: the local stack (tools, cluster, Pub/Sub emulator, chart repositories)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from ..engine.resource import read_platform
from ..kube.events import object_events
from ..localstack import serving, stack
from ..values.validation import load_platform
from . import platforms, pubsub, stackuse, target
from .conventions import DONE, PERMANENT, add_output, duration, emit, read_text
from .target import LOCAL_CLUSTER, register

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "minimal.yaml"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    local = subparsers.add_parser("local", help="run the local stack on 127.0.0.1")
    commands = local.add_subparsers(dest="local_command", required=True)
    commands.add_parser("up", help="provision tools and start (or reuse) the stack")
    commands.add_parser("down", help="stop the stack (data is kept)")
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
    local.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    command = arguments.local_command
    if command == "up":
        running = stack.up()
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
    return demo(arguments.spec, arguments.timeout)


def print_stack(running: stack.Stack) -> None:
    print(f"local stack {running.name!r} is up")
    for key, value in running.environment().items():
        print(f"  {key}={value}")
    print(
        f"  charts: {len(running.charts)} versions in "
        f"{len({c.repository for c in running.charts})} repositories"
    )


def print_status(output: str = "table") -> int:
    current = stack.status()
    cluster = current.cluster
    running = cluster.running and all(current.servers.values())
    if output != "table":
        ports = current.ports
        emit(
            {
                "stack": current.name,
                "running": running,
                "cluster": {
                    "name": cluster.name,
                    "running": cluster.running,
                    "version": cluster.version if cluster.running else None,
                    "server": cluster.server if cluster.running else None,
                    "nodesReady": cluster.nodes_ready if cluster.running else None,
                },
                "servers": {name: {"pid": pid} for name, pid in current.servers.items()},
                "ports": vars(ports) if ports else None,
            },
            output,
        )
        return 0 if running else 1
    state = "running" if cluster.running else "stopped"
    print(f"cluster {cluster.name}: {state}", end="")
    if cluster.running:
        print(f", {cluster.version} at {cluster.server}, {cluster.nodes_ready} nodes Ready")
    else:
        print()
    ports = current.ports
    port_of = {
        "pubsub-emulator": ports.pubsub if ports else None,
        "chart-server": ports.charts if ports else None,
        "oci-registry": ports.oci if ports else None,
    }
    for server, pid in current.servers.items():
        port = port_of.get(server)  # the volume keeper listens on no port
        where = f"127.0.0.1:{port}" if port else "-"
        print(f"{server}: {'running (pid ' + str(pid) + ')' if pid else 'stopped'} {where}")
    return 0 if running else 1


def demo(spec: Path, timeout: float) -> int:
    """The product on the local stack, as a platform team uses it: publish a spec to Pub/Sub,
    the reconcile function applies it to the cluster, and the outcome comes back."""
    text = read_text(spec, "local demo")
    if text is None:
        return PERMANENT
    running = stackuse.started("local demo")
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

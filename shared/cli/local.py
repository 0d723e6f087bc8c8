"""``gunj local``: the local stack (tools, cluster, Pub/Sub emulator, chart repositories)."""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import timedelta

from ..clusters import ClusterRegistry, current_context_of
from ..errors import GunjError
from ..helm import ChartReference, HelmClient, KubeTarget
from ..kube import ClusterAccess
from ..localstack import stack

DEMO_NAMESPACE = "gunj-demo"
DEMO_RELEASE = "demo-prometheus"
DEMO_CHART = ChartReference(name="prometheus", version="29.27.0")
LOCAL_CLUSTER = "local"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    local = subparsers.add_parser("local", help="run the local stack on 127.0.0.1")
    commands = local.add_subparsers(dest="local_command", required=True)
    commands.add_parser("up", help="provision tools and start (or reuse) the stack")
    commands.add_parser("down", help="stop the stack (data is kept)")
    commands.add_parser("status", help="show what runs and where")
    commands.add_parser("env", help="print shell exports for the running stack")
    demo = commands.add_parser(
        "demo",
        help="bring the stack up, install a test chart through gunj's Helm client, "
        "run its tests and print its status",
    )
    demo.add_argument(
        "--helm", type=int, choices=(3, 4), default=3, help="Helm major version to use (default 3)"
    )
    local.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    command = arguments.local_command
    if command == "up":
        running = stack.up()
        print_stack(running)
        register(running)
        return 0
    if command == "down":
        stopped = stack.down()
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        return 0
    if command == "status":
        return print_status()
    if command == "env":
        running = stack.up()
        for key, value in running.environment().items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    return demo(arguments.helm)


def print_stack(running: stack.Stack) -> None:
    print(f"local stack {running.name!r} is up")
    for key, value in running.environment().items():
        print(f"  {key}={value}")
    print(
        f"  charts: {len(running.charts)} versions in "
        f"{len({c.repository for c in running.charts})} repositories"
    )


def register(running: stack.Stack) -> None:
    """Register the stack's cluster as ``local``, so ``--cluster local`` reaches it. A registry
    given inline (GUNJ_CLUSTER_REGISTRY) cannot be written: say so, the stack is up anyway."""
    try:
        registry = ClusterRegistry.load()
        registry.register(LOCAL_CLUSTER, running.kubeconfig, current_context_of(running.kubeconfig))
    except (GunjError, ValueError, OSError) as error:
        print(f"gunj: cluster {LOCAL_CLUSTER!r} not registered: {error}", file=sys.stderr)
        return
    print(f"  cluster {LOCAL_CLUSTER!r} registered in {registry.location.describe()}")


def print_status() -> int:
    current = stack.status()
    cluster = current.cluster
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
        where = f"127.0.0.1:{port_of[server]}" if port_of[server] else "-"
        print(f"{server}: {'running (pid ' + str(pid) + ')' if pid else 'stopped'} {where}")
    running = cluster.running and all(current.servers.values())
    return 0 if running else 1


def demo(helm_major: int) -> int:
    running = stack.up()
    print_stack(running)
    helm = HelmClient.for_path(running.helm[helm_major], home=running.folder / f"helm{helm_major}")
    target = KubeTarget(namespace=DEMO_NAMESPACE, kubeconfig=running.kubeconfig)
    ClusterAccess(running.kubeconfig).ensure_namespace(DEMO_NAMESPACE)
    chart = DEMO_CHART.model_copy(
        update={"repository": running.repository_url("prometheus-community")}
    )
    print(
        f"\nhelm {helm.binary.version}: upgrade --install {DEMO_RELEASE} "
        f"{chart.describe()} in {DEMO_NAMESPACE}"
    )
    release = helm.upgrade(
        DEMO_RELEASE,
        chart,
        target,
        install=True,
        values={"server": {"retention": "7d"}},
        timeout=timedelta(minutes=3),
    )
    tests = helm.test(DEMO_RELEASE, target, timeout=timedelta(minutes=2))
    metadata = helm.metadata(DEMO_RELEASE, target)
    pods = ClusterAccess(running.kubeconfig).pods(
        DEMO_NAMESPACE, f"app.kubernetes.io/instance={DEMO_RELEASE}"
    )
    ready = sum(
        1
        for pod in pods
        if pod.status.phase == "Running"
        and all(status.ready for status in pod.status.container_statuses or [])
    )
    print(
        f"release {release.name}: revision {release.revision}, {release.info.status}, "
        f"chart {metadata.chart} {metadata.version} (app {metadata.app_version})"
    )
    print(f"pods Ready: {ready}/{sum(1 for pod in pods if pod.status.phase != 'Succeeded')}")
    for outcome in tests.outcomes:
        print(f"test {outcome.name}: {outcome.phase}")
    print("demo", "passed" if tests.passed else "FAILED")
    return 0 if tests.passed else 1

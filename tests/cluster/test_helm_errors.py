"""Helm's failures, produced for real on the local cluster with Helm 3 and Helm 4, arrive as the
typed errors the engine acts on: transient ones are retried (and a retry does succeed once the
cause is gone), permanent ones are reported, and only a test pod that failed is a failed test.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from shared.helm import ChartReference, HelmClient, KubeTarget, ReleaseStatus
from shared.helm.errors import (
    ClusterUnreachable,
    FieldConflict,
    FieldOwner,
    HelmError,
    HelmTimeout,
    HookFailed,
    NamespaceTerminating,
    QuotaExceeded,
    ReleaseNotFound,
    RepositoryUnavailable,
    ResourceRejected,
    TestFailed,
)
from shared.kube import ClusterAccess
from shared.kube.errors import ApiError
from shared.localstack.stack import Stack
from tests.support import http_chart

TIMEOUT = timedelta(minutes=2)
FINALIZER = "example.com/hold"


@pytest.fixture
def target(local_stack: Stack, namespace: str) -> KubeTarget:
    return KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound (so nothing else takes it) but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@pytest.fixture
def unreachable(kubeconfig: Path, closed_port: int, tmp_path: Path, namespace: str) -> KubeTarget:
    """The local cluster's kubeconfig with its API server moved to a closed port."""
    config = yaml.safe_load(kubeconfig.read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{closed_port}"
    moved = tmp_path / "unreachable-kubeconfig.yaml"
    moved.write_text(yaml.safe_dump(config))
    return KubeTarget(namespace=namespace, kubeconfig=moved)


def wait_for(condition: Callable[[], bool], what: str, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.5)


def kubectl(stack: Stack, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [str(stack.kubectl), "--kubeconfig", str(stack.kubeconfig), *args],
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def phase(resource: client.V1Namespace | client.V1Pod) -> str | None:
    return resource.status.phase if resource.status else None


def quota(cluster: ClusterAccess, namespace: str, name: str, hard: dict[str, str]) -> None:
    cluster.core.create_namespaced_resource_quota(
        namespace,
        client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name=name), spec=client.V1ResourceQuotaSpec(hard=hard)
        ),
    )

    # The admission plugin refuses only once the quota controller has counted current usage.
    def counted() -> bool:
        status = cluster.core.read_namespaced_resource_quota(name, namespace).status
        return bool(status and status.used is not None and set(status.used) == set(hard))

    wait_for(counted, f"ResourceQuota {name} counted")


# --- 1. a chart source that cannot be reached is not an unreachable cluster ---------------------


@pytest.mark.parametrize(
    "how",
    [
        "install oci",
        "install oci version",
        "show chart oci",
        "pull oci",
        "install repo",
        "show repo",
    ],
)
def test_unreachable_chart_source_is_a_repository_problem(
    how: str, helm: HelmClient, target: KubeTarget, closed_port: int
) -> None:
    source = f"127.0.0.1:{closed_port}"
    chart = (
        ChartReference(name="prometheus", repository=f"http://{source}/prometheus-community")
        if how.endswith("repo")
        else ChartReference(
            name="chart",
            repository=f"oci://{source}/x",
            version="29.27.0" if how.endswith("version") else None,
        )
    )

    with pytest.raises(HelmError) as raised:
        if how.startswith("install"):
            helm.install("unreached", chart, target, timeout=TIMEOUT)
        elif how.startswith("show"):
            helm.show_chart(chart)
        else:
            helm.run(["pull", *chart.as_arguments(), "--destination", "/nonexistent"])

    error = raised.value
    assert type(error) is RepositoryUnavailable, error.stderr
    assert error.transient
    assert source in str(error)
    assert "connection refused" in str(error)


def test_unreachable_api_server_is_a_cluster_problem(
    helm: HelmClient, local_stack: Stack, unreachable: KubeTarget, closed_port: int
) -> None:
    chart = http_chart(local_stack, "prometheus", "29.27.0")

    for attempt in (
        lambda: helm.install("unreached", chart, unreachable, timeout=TIMEOUT),
        lambda: helm.status("unreached", unreachable),
        lambda: helm.list_releases(unreachable),
    ):
        with pytest.raises(HelmError) as raised:
            attempt()
        error = raised.value
        assert type(error) is ClusterUnreachable, error.stderr
        assert error.transient
        assert f"https://127.0.0.1:{closed_port}/version" in str(error)


# --- 2. a namespace being deleted ---------------------------------------------------------------


@pytest.fixture
def held_namespace(cluster: ClusterAccess, namespace: str) -> Iterator[str]:
    """The test namespace, deleted but held in Terminating by a ConfigMap's finalizer until the
    test lets it go (or ends)."""
    cluster.core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="hold", finalizers=[FINALIZER])),
    )
    cluster.delete_namespace(namespace)
    wait_for(lambda: phase(cluster.core.read_namespace(namespace)) == "Terminating", namespace)
    yield namespace
    release_hold(cluster, namespace)


def release_hold(cluster: ClusterAccess, namespace: str) -> None:
    try:
        cluster.core.patch_namespaced_config_map(
            "hold", namespace, {"metadata": {"finalizers": None}}
        )
    except ApiError as error:
        if error.status != 404:
            raise


def test_terminating_namespace_is_transient_and_a_retry_succeeds_once_it_is_gone(
    helm: HelmClient, local_stack: Stack, cluster: ClusterAccess, held_namespace: str
) -> None:
    target = KubeTarget(namespace=held_namespace, kubeconfig=local_stack.kubeconfig)
    chart = http_chart(local_stack, "prometheus", "29.27.0")

    with pytest.raises(HelmError) as raised:
        helm.install("late", chart, target, timeout=TIMEOUT)

    error = raised.value
    assert type(error) is NamespaceTerminating, error.stderr
    assert error.transient
    assert f"namespace {held_namespace} because it is being terminated" in str(error)

    release_hold(cluster, held_namespace)

    def gone() -> bool:
        try:
            cluster.core.read_namespace(held_namespace)
        except ApiError as missing:
            return bool(missing.status == 404)
        return False

    wait_for(gone, f"namespace {held_namespace} deleted")
    cluster.ensure_namespace(held_namespace, labels={"gunj.io/test": "true"})
    assert (
        helm.install("late", chart, target, timeout=TIMEOUT).info.status is ReleaseStatus.DEPLOYED
    )


# --- 3. an exceeded ResourceQuota ---------------------------------------------------------------


def test_exceeded_quota_is_transient_names_the_quota_and_a_retry_succeeds_once_it_is_lifted(
    helm: HelmClient, local_stack: Stack, cluster: ClusterAccess, target: KubeTarget
) -> None:
    quota(cluster, target.namespace, "no-configmaps", {"count/configmaps": "0"})
    chart = http_chart(local_stack, "prometheus", "29.27.0")

    with pytest.raises(HelmError) as raised:
        helm.install("squeezed", chart, target, timeout=TIMEOUT)

    error = raised.value
    assert type(error) is QuotaExceeded, error.stderr
    assert error.transient
    assert error.quotas == ("no-configmaps",)
    assert str(error).startswith(
        'INSTALLATION FAILED: quota no-configmaps exceeded by configmaps "squeezed-prometheus-'
    )

    cluster.core.delete_namespaced_resource_quota("no-configmaps", target.namespace)
    upgraded = helm.upgrade("squeezed", chart, target, install=True, timeout=TIMEOUT)
    assert upgraded.info.status is ReleaseStatus.DEPLOYED


def test_quota_beside_a_rejected_object_is_permanent(
    helm: HelmClient, local_stack: Stack, cluster: ClusterAccess, target: KubeTarget
) -> None:
    # Lifting the quota would not make the chart's invalid ConfigMap acceptable: no retry.
    quota(cluster, target.namespace, "no-configmaps", {"count/configmaps": "0"})

    with pytest.raises(HelmError) as raised:
        helm.install(
            "doubly",
            http_chart(local_stack, "prometheus", "29.28.0-failing-install"),
            target,
            timeout=TIMEOUT,
        )

    error = raised.value
    assert "exceeded quota: no-configmaps" in error.stderr
    assert type(error) is ResourceRejected, error.stderr
    assert not error.transient
    assert 'ConfigMap "doubly-prometheus-broken" is invalid' in str(error)


# --- 4. a field owned by another field manager --------------------------------------------------


def test_field_owned_by_another_manager_conflicts_with_helm_4_only(
    helm: HelmClient, local_stack: Stack, cluster: ClusterAccess, target: KubeTarget
) -> None:
    chart = http_chart(local_stack, "prometheus", "29.27.0")
    helm.install("owned", chart, target, timeout=TIMEOUT)
    taken = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "owned-prometheus-server", "namespace": target.namespace},
        "data": {"prometheus.yml": "global: {}\n"},
    }
    kubectl(
        local_stack,
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=other",
        "-f",
        "-",
        stdin=yaml.safe_dump(taken),
    )
    # Scaling by hand (or by an autoscaler) owns the replicas through the scale subresource.
    kubectl(
        local_stack,
        "scale",
        "-n",
        target.namespace,
        "deploy/owned-prometheus-server",
        "--replicas=2",
    )
    changed = {"server": {"global": {"scrape_interval": "2m"}}}

    if helm.major == 3:
        # A three-way merge knows no owners: the chart's values win.
        helm.upgrade("owned", chart, target, values=changed, timeout=TIMEOUT)
        config = cluster.core.read_namespaced_config_map(
            "owned-prometheus-server", target.namespace
        )
        assert "scrape_interval: 2m" in (config.data or {})["prometheus.yml"]
        return

    with pytest.raises(HelmError) as raised:
        helm.upgrade("owned", chart, target, values=changed, timeout=TIMEOUT)

    error = raised.value
    assert type(error) is FieldConflict, error.stderr
    assert not error.transient
    namespace = target.namespace
    assert set(error.conflicts) == {
        FieldOwner(
            f"ConfigMap {namespace}/owned-prometheus-server", ".data.prometheus.yml", "other"
        ),
        FieldOwner(
            f"Deployment {namespace}/owned-prometheus-server", ".spec.replicas", "kubectl", "scale"
        ),
    }
    assert str(error).startswith("UPGRADE FAILED: server-side apply conflict: ")
    assert (
        f".data.prometheus.yml of ConfigMap {namespace}/owned-prometheus-server"
        ' is managed by "other"'
    ) in str(error)


# --- 5. helm test: only a failed test pod is a failed test ---------------------------------------


@pytest.mark.parametrize(
    ("version", "passed"), [("29.27.0", True), ("29.28.0-failing-test", False)]
)
def test_test_outcome_is_the_test_pods(
    version: str, passed: bool, helm: HelmClient, local_stack: Stack, target: KubeTarget
) -> None:
    helm.install("tested", http_chart(local_stack, "prometheus", version), target, timeout=TIMEOUT)

    run = helm.test("tested", target, timeout=TIMEOUT)

    assert [(o.name, o.passed) for o in run.outcomes] == [("tested-prometheus-server-test", passed)]
    if passed:
        assert run.message == ""
    else:
        assert "pod tested-prometheus-server-test failed" in run.message


def test_failed_test_pod_is_test_failed(
    helm: HelmClient, local_stack: Stack, target: KubeTarget
) -> None:
    chart = http_chart(local_stack, "prometheus", "29.28.0-failing-test")
    helm.install("tested", chart, target, timeout=TIMEOUT)

    with pytest.raises(HelmError) as raised:
        helm.run(["test", "tested", *target.flags()])

    assert type(raised.value) is TestFailed, raised.value.stderr


def test_test_timeout_is_a_timeout(
    helm: HelmClient, local_stack: Stack, target: KubeTarget
) -> None:
    helm.install(
        "tested", http_chart(local_stack, "prometheus", "29.27.0"), target, timeout=TIMEOUT
    )

    with pytest.raises(HelmError) as raised:
        helm.run(["test", "tested", *target.flags(), "--timeout", "1ms"])

    assert type(raised.value) is HelmTimeout, raised.value.stderr
    assert raised.value.transient


def test_test_of_an_unknown_release_raises(helm: HelmClient, target: KubeTarget) -> None:
    with pytest.raises(ReleaseNotFound):
        helm.test("never-installed", target, timeout=TIMEOUT)


def test_test_on_an_unreachable_cluster_raises(helm: HelmClient, unreachable: KubeTarget) -> None:
    with pytest.raises(ClusterUnreachable):
        helm.test("tested", unreachable, timeout=TIMEOUT)


def test_test_pod_refused_by_quota_raises(
    helm: HelmClient, local_stack: Stack, cluster: ClusterAccess, target: KubeTarget
) -> None:
    # Helm never got to run the test: nothing is known about the release.
    helm.install(
        "tested", http_chart(local_stack, "prometheus", "29.27.0"), target, timeout=TIMEOUT
    )
    quota(cluster, target.namespace, "no-pods", {"pods": "0"})

    with pytest.raises(QuotaExceeded) as raised:
        helm.test("tested", target, timeout=TIMEOUT)

    assert raised.value.quotas == ("no-pods",)
    assert 'exceeded by pods "tested-prometheus-server-test"' in str(raised.value)


HOOKED_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: hooked\nversion: 0.1.0\n",
    "templates/hook.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-prepare
  annotations:
    helm.sh/hook: pre-install
spec:
  restartPolicy: Never
  containers:
    - name: prepare
      image: busybox
""",
}


def test_failed_hook_pod_of_an_install_is_no_test_failure(
    helm: HelmClient, cluster: ClusterAccess, target: KubeTarget, tmp_path: Path
) -> None:
    for name, text in HOOKED_CHART.items():
        (tmp_path / "hooked" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "hooked" / name).write_text(text)
    raised: list[BaseException] = []

    def install() -> None:
        try:
            helm.install(
                "hooked",
                ChartReference(name="hooked", path=tmp_path / "hooked"),
                target,
                timeout=TIMEOUT,
            )
        except HelmError as error:
            raised.append(error)

    installing = threading.Thread(target=install)
    installing.start()
    # kwok runs the hook pod forever; failing it is the test's part.
    pod = "hooked-prepare"

    def running() -> bool:
        try:
            return phase(cluster.core.read_namespaced_pod(pod, target.namespace)) == "Running"
        except ApiError:
            return False

    wait_for(running, f"hook pod {pod} running")
    cluster.core.patch_namespaced_pod_status(pod, target.namespace, {"status": {"phase": "Failed"}})
    installing.join(timeout=TIMEOUT.total_seconds())

    assert len(raised) == 1
    error = raised[0]
    assert isinstance(error, HelmError)
    assert type(error) is HookFailed, error.stderr
    assert not error.transient
    assert "failed pre-install" in str(error)
    assert f"pod {pod} failed" in str(error)

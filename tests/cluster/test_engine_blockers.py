"""Changes the cluster says cannot come up, on the local cluster with Helm 3 and Helm 4 (and
native mode for one): a DaemonSet asking for a host port another DaemonSet holds on every node,
a node selector no node has, a claim naming a storage class that does not exist, a pod larger
than the namespace's quota; an install and an upgrade. Each attempt
is stopped soon after the watch's settling time with the scheduler's or the cluster's words
instead of waiting out its timeout, spends every retry at once, and leaves the component
Stalled saying what to change; the same spec applied again runs no Helm, and a changed spec is
tried again. Elapsed times are printed, not asserted."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kubernetes import client

from shared.engine import resource
from shared.kube import ClusterAccess
from shared.kube.errors import ApiNotFound
from tests.cluster.test_tenancy import Tenant, tenant  # noqa: F401 - the fixture
from tests.engine_support import SMALL_PROMETHEUS, Engine, platform

# Long enough that a test that waited it out would be plain, short enough to bound a failure.
TIMEOUT = "2m"
CANNOT = "not installed: this spec cannot succeed as it is; the cluster says it cannot come up: "


@pytest.fixture(autouse=True)
def crd_checked_again() -> None:
    """Each test makes sure the cluster has this checkout's CRD (with ``blocked``), not only the
    first of the process: a local cluster may be shared with other checkouts' test runs."""
    resource._CRD_CURRENT.clear()


@contextmanager
def port_held_on_every_node(cluster: ClusterAccess) -> Iterator[int]:
    """A Deployment of nobody's platform holding a random high host port on every node: one
    replica per node, which the scheduler must spread since two cannot share the port. (Not a
    DaemonSet: another platform's DaemonSet on the port is refused before Helm runs, by the
    collision check; a port held by other pods is found only while the release comes up.)"""
    port = 30000 + secrets.randbelow(30000)
    nodes = len(cluster.core.list_node().items)
    namespace = f"t-port-holder-{uuid.uuid4().hex[:6]}"
    cluster.ensure_namespace(namespace, labels={"gunj.io/test": "true"})
    labels = {"app": "port-holder"}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="port-holder"),
        spec=client.V1DeploymentSpec(
            replicas=nodes,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(
                            name="holder",
                            image="registry.k8s.io/pause:3.10",
                            ports=[client.V1ContainerPort(container_port=port, host_port=port)],
                        )
                    ]
                ),
            ),
        ),
    )
    cluster.apps.create_namespaced_deployment(namespace, body)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = cluster.apps.read_namespaced_deployment("port-holder", namespace).status
            if status and (status.ready_replicas or 0) == nodes:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the port holder did not come up on every node")
        yield port
    finally:
        cluster.delete_namespace(namespace)


def _warnings(engine: Engine, namespace: str) -> list[str]:
    return [message for kind, _, message in engine.events(namespace) if kind == "Warning"]


def _assert_stalled_for_good(
    engine: Engine, namespace: str, spec: Any, outcome: Any, words: str
) -> None:
    """Stalled with the cluster's ``words``, retries spent, nothing left installed, and the
    same spec applied again runs no Helm."""
    assert outcome.result == "stalled", outcome
    report = outcome.components[0]
    assert report.actions[0] in {"install failed", "install"}, report.actions
    assert report.message.startswith(CANNOT), report.message
    assert words in report.message, report.message
    record = engine.status(namespace).components["prometheus"]
    assert record.state == "Stalled"
    assert record.message == report.message
    assert words in record.blocked
    assert record.failures > 0
    conditions = {c.type: c for c in engine.status(namespace).conditions}
    assert conditions["Stalled"].status == "True"
    assert any(words in message for message in _warnings(engine, namespace)), engine.events(
        namespace
    )
    engine.helm_runs()

    again = engine.apply(spec)

    assert again.result == "stalled", again
    assert again.components[0].actions == ()
    assert again.components[0].message == report.message
    assert engine.helm_runs() == []


def test_a_daemonset_asking_for_a_host_port_another_holds_is_stopped_with_the_schedulers_words(
    engine: Engine, namespace: str, cluster: ClusterAccess
) -> None:
    with port_held_on_every_node(cluster) as port:
        spec = platform(
            namespace,
            prometheus={
                **SMALL_PROMETHEUS,
                "timeout": TIMEOUT,
                "remediation": {"retries": 2},
                "nodeExporter": {"enabled": True},
                "config": {
                    "prometheus-node-exporter": {"hostNetwork": True, "service": {"port": port}}
                },
            },
        )
        started = time.monotonic()
        outcome = engine.apply(spec)
        print(f"host port taken: stalled after {time.monotonic() - started:.1f}s")

        words = "node(s) didn't have free ports for the requested pod ports"
        _assert_stalled_for_good(engine, namespace, spec, outcome, words)
        assert re.search(
            r"DaemonSet \S+-node-exporter: 0/3 nodes are available", outcome.components[0].message
        )
        assert "preemption" not in outcome.components[0].message
        assert outcome.components[0].actions == ("install failed", "uninstall")
        assert engine.release(namespace, "obs-prometheus").state == "absent"


def test_a_node_selector_no_node_has_is_stopped_and_a_changed_spec_is_tried_again(
    engine: Engine, namespace: str
) -> None:
    nowhere = {**SMALL_PROMETHEUS, "timeout": TIMEOUT, "nodeSelector": {"gunj.io/nowhere": "x"}}
    spec = platform(namespace, prometheus=nowhere)

    started = time.monotonic()
    outcome = engine.apply(spec)
    print(f"node selector: stalled after {time.monotonic() - started:.1f}s")

    words = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector"
    _assert_stalled_for_good(engine, namespace, spec, outcome, words)

    fixed = platform(namespace, prometheus={**SMALL_PROMETHEUS, "timeout": TIMEOUT})
    assert engine.apply(fixed).result == "ready"
    record = engine.status(namespace).components["prometheus"]
    assert (record.state, record.blocked, record.failures) == ("InSync", "", 0)


def test_a_claim_naming_a_storage_class_that_does_not_exist_is_stopped(
    engine: Engine, namespace: str, cluster: ClusterAccess
) -> None:
    missing = f"gunj-missing-{uuid.uuid4().hex[:6]}"
    try:
        client.StorageV1Api(cluster.api).read_storage_class(missing)
        raise AssertionError(f"storage class {missing} exists")
    except client.ApiException as error:
        assert error.status == 404
    except ApiNotFound:
        pass
    spec = platform(
        namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "timeout": TIMEOUT,
            "storage": {"enabled": True, "size": "1Gi", "storageClassName": missing},
        },
    )

    started = time.monotonic()
    outcome = engine.apply(spec)
    print(f"missing storage class: stalled after {time.monotonic() - started:.1f}s")

    words = f'asks for storage class "{missing}", which does not exist'
    _assert_stalled_for_good(engine, namespace, spec, outcome, words)


def test_native_mode_stops_waiting_for_a_node_selector_no_node_has(
    engine_helm3: Engine, namespace: str
) -> None:
    spec = platform(
        namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "mode": "native",
            "timeout": TIMEOUT,
            "nodeSelector": {"gunj.io/nowhere": "x"},
        },
    )

    started = time.monotonic()
    outcome = engine_helm3.apply(spec)
    print(f"native, node selector: stalled after {time.monotonic() - started:.1f}s")

    words = "node(s) didn't match Pod's node affinity/selector"
    _assert_stalled_for_good(engine_helm3, namespace, spec, outcome, words)


def test_an_upgrade_that_cannot_come_up_is_rolled_back_and_stalls_on_the_last_good_revision(
    engine: Engine, namespace: str
) -> None:
    good = {**SMALL_PROMETHEUS, "timeout": TIMEOUT}
    assert engine.apply(platform(namespace, prometheus=good)).result == "ready"
    spec = platform(namespace, prometheus={**good, "nodeSelector": {"gunj.io/nowhere": "x"}})

    started = time.monotonic()
    outcome = engine.apply(spec)
    print(f"upgrade, node selector: stalled after {time.monotonic() - started:.1f}s")

    assert outcome.result == "stalled", outcome
    report = outcome.components[0]
    assert report.actions == ("upgrade failed", "rollback", "verify"), report.actions
    assert "the cluster says it cannot come up: Deployment obs-prometheus-server: 0/3" in (
        report.message
    )
    assert "the last good revision runs" in report.message
    release = engine.release(namespace, "obs-prometheus")
    assert (release.state, release.revision) == ("deployed", 3)
    record = engine.status(namespace).components["prometheus"]
    assert (record.state, record.revision, record.last_good_revision) == ("Stalled", 3, 3)
    assert "didn't match Pod's node affinity/selector" in record.blocked
    engine.helm_runs()

    again = engine.apply(spec)

    assert (again.result, again.components[0].actions) == ("stalled", ())
    assert engine.helm_runs() == []


def test_pods_one_of_which_alone_exceeds_the_namespaces_quota_are_stopped(
    engine: Engine, namespace: str, cluster: ClusterAccess
) -> None:
    cluster.core.create_namespaced_resource_quota(
        namespace,
        client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name="compute"),
            spec=client.V1ResourceQuotaSpec(hard={"requests.cpu": "1"}),
        ),
    )
    spec = platform(
        namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "timeout": TIMEOUT,
            "resources": {"requests": {"cpu": "2"}},
        },
    )

    started = time.monotonic()
    outcome = engine.apply(spec)
    print(f"quota: stalled after {time.monotonic() - started:.1f}s")

    words = "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=0, limited:"
    _assert_stalled_for_good(engine, namespace, spec, outcome, words)


def test_the_watch_reads_what_it_needs_with_a_platforms_own_rights(
    tenant: Tenant,  # noqa: F811 - the fixture imported above
) -> None:
    """Acting as the namespace's ServiceAccount with what `gunj clusters rbac` grants: the claim
    and its missing storage class are read, and the install is stopped as with gunj's rights."""
    missing = f"gunj-missing-{uuid.uuid4().hex[:6]}"
    spec = platform(
        tenant.namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "timeout": TIMEOUT,
            "storage": {"enabled": True, "size": "1Gi", "storageClassName": missing},
        },
    )

    outcome = tenant.reconciler().apply(spec)

    assert outcome.result == "stalled", outcome
    assert outcome.components[0].message == (
        f"{CANNOT}PersistentVolumeClaim obs-prometheus-server asks for storage class "
        f'"{missing}", which does not exist'
    )

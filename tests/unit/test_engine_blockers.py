"""What the cluster says that will not change without a person, judged from its own words: the
scheduler's messages exactly as kube-scheduler 1.34 (the local stack's) writes them in a pod's
``PodScheduled`` condition and its ``FailedScheduling`` Event, a ReplicaSet's ``FailedCreate``
Event for a quota, kubelet's image states, and a claim whose storage class is missing. Then what
the engine makes of such a failure: every retry spent at once, Stalled with the cluster's words,
a new spec tried again. And Helm stopped by a watch, with a real process."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.engine.action import Action, ActionResult
from shared.engine.classify import Classification, Finding
from shared.engine.decide import decide
from shared.engine.remediation import after_action
from shared.engine.verification import blockers
from shared.engine.verification.watch import ReleaseWatch
from shared.helm.errors import HelmBlocked
from shared.helm.process import run_helm
from shared.helm.releases import ReleaseState
from shared.redaction import Redactor
from shared.values.spec.status import ComponentState, ComponentStatus
from tests.unit.test_engine_decisions import desired, observed

PREEMPTION = (
    " no new claims to deallocate, preemption: 0/3 nodes are available: "
    "3 Preemption is not helpful for scheduling."
)
# A DaemonSet's pod on the node whose host port another pod holds; the framework rules the
# other two nodes out by the pod's pinning to its own node.
PORT_TAKEN = (
    "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, "
    "2 node(s) didn't satisfy plugin(s) [NodeAffinity]. no new claims to deallocate, "
    "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
    "2 Preemption is not helpful for scheduling."
)
SELECTOR = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
TAINTED = "0/3 nodes are available: 3 node(s) had untolerated taint(s)."
CPU = "0/3 nodes are available: 3 Insufficient cpu."
MIXED = (
    "0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match Pod's node "
    "affinity/selector."
)
UNBOUND = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found"
QUOTA = (
    'Error creating: pods "big-686c95c699-h2hdk" is forbidden: exceeded quota: compute, '
    "requested: requests.cpu=2, used: requests.cpu=500m, limited: requests.cpu=1"
)


def pod(message: str, *, reason: str = "Unschedulable") -> dict[str, Any]:
    condition = {"type": "PodScheduled", "status": "False", "reason": reason, "message": message}
    return {"metadata": {"name": "p"}, "status": {"conditions": [condition]}}


def test_the_schedulers_first_sentence_is_kept_without_the_preemption_report() -> None:
    assert blockers.scheduling_blocker(PORT_TAKEN) == (
        "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod "
        "ports, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]"
    )
    assert blockers.unschedulable(pod(PORT_TAKEN)) == PORT_TAKEN


@pytest.mark.parametrize(
    "message",
    [SELECTOR + PREEMPTION, TAINTED + PREEMPTION, PORT_TAKEN],
    ids=["node selector", "taint", "host port"],
)
def test_every_node_ruled_out_for_good_is_a_blocker(message: str) -> None:
    found = blockers.scheduling_blocker(message)
    assert found is not None and found.startswith("0/3 nodes are available: ")
    assert "preemption" not in found


@pytest.mark.parametrize(
    "message",
    [CPU + PREEMPTION, MIXED + PREEMPTION, UNBOUND, "0/0 nodes are available: ."],
    ids=["insufficient cpu", "one node short of memory", "claims not bound", "no nodes"],
)
def test_a_node_that_may_take_the_pod_later_is_no_blocker(message: str) -> None:
    assert blockers.scheduling_blocker(message) is None


def test_taints_the_cluster_lifts_itself_and_a_scale_up_are_no_blocker() -> None:
    joining = {
        "spec": {"taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]}
    }
    dedicated = {"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}
    assert blockers.lifecycle_taints([joining, dedicated]) == ["node.kubernetes.io/not-ready"]
    assert blockers.lifecycle_taints([dedicated, {}]) == []
    assert blockers.scheduling_blocker(TAINTED, passing_taints=True) is None
    assert blockers.scheduling_blocker(SELECTOR, scaling_up=True) is None
    assert blockers.scheduling_blocker(SELECTOR, node_may_come=True) is None


def test_a_pod_scheduled_or_merely_pending_says_nothing() -> None:
    assert blockers.unschedulable(pod("", reason="SchedulingGated")) is None
    assert blockers.unschedulable({"status": {"phase": "Pending"}}) is None


def test_a_claim_naming_a_storage_class_that_does_not_exist() -> None:
    claim = {
        "metadata": {"name": "data"},
        "spec": {"storageClassName": "fast"},
        "status": {"phase": "Pending"},
    }
    assert blockers.waits_for_claims(UNBOUND)
    assert blockers.claim_blocker(claim, storage_class_exists=False) == (
        'PersistentVolumeClaim data asks for storage class "fast", which does not exist'
    )
    assert blockers.claim_blocker(claim, storage_class_exists=True) is None
    assert blockers.claim_blocker(claim, storage_class_exists=None) is None  # could not look
    bound = {**claim, "status": {"phase": "Bound"}}
    assert blockers.claim_blocker(bound, storage_class_exists=False) is None


def test_a_quota_one_pod_alone_exceeds_is_a_blocker_and_one_it_fits_empty_is_not() -> None:
    assert blockers.quota_blocker(QUOTA) == (
        "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=500m, "
        "limited: requests.cpu=1"
    )
    fits_alone = QUOTA.replace("requests.cpu=2,", "requests.cpu=800m,")
    assert blockers.quota_blocker(fits_alone) is None
    several = (
        'pods "x" is forbidden: exceeded quota: q, requested: limits.memory=2Gi,requests.cpu=1, '
        "used: limits.memory=0,requests.cpu=0, limited: limits.memory=1Gi,requests.cpu=4"
    )
    assert blockers.quota_blocker(several) is not None
    assert blockers.quota_blocker("Error creating: pods is forbidden: unable to validate") is None


@pytest.mark.parametrize(
    ("reason", "message", "blocked"),
    [
        ("InvalidImageName", 'Failed to apply default image tag "Bad:Name": invalid', True),
        (
            "ErrImagePull",
            'failed to pull and unpack image "docker.io/library/nginx:nope": failed to resolve '
            'reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found',
            True,
        ),
        ("ImagePullBackOff", 'Back-off pulling image "nginx:nope"', False),
        (
            "ErrImagePull",
            "failed to do request: Head https://registry/v2/x/manifests/1: dial tcp: i/o timeout",
            False,
        ),
        ("CrashLoopBackOff", "back-off 5m0s restarting failed container", False),
    ],
)
def test_images_that_cannot_be_pulled(reason: str, message: str, blocked: bool) -> None:
    state = {"waiting": {"reason": reason, "message": message}}
    found = blockers.image_blocker(
        {"status": {"containerStatuses": [{"name": "server", "state": state}]}}
    )
    assert (found is not None) == blocked
    if found:
        assert found.startswith(f"container server {reason}")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Cluster:
    """What a watch reads, as a double whose answers a test changes: the reads themselves are
    the cluster tests' (tests/cluster/test_engine_blockers.py)."""

    def __init__(self) -> None:
        self.pods: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.resources = self

    def list(self, kind: Any, namespace: Any, selector: str = "", **_: Any) -> Any:
        return self.pods if kind.kind == "Pod" else []

    def request(self, method: str, path: str, query: Any = (), **_: Any) -> Any:
        wanted = dict(query).get("fieldSelector", "").removeprefix("reason=")
        return {"items": [e for e in self.events if e["reason"] == wanted]}

    def get(self, kind: Any, namespace: str | None, name: str, **_: Any) -> Any:
        return self.objects.get((kind.kind, namespace, name))


def workload(kind: str, name: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}},
    }


def test_a_reason_is_believed_only_once_it_has_held_for_the_settling_time() -> None:
    cluster, clock = Cluster(), FakeClock()
    watch = ReleaseWatch(cluster, "ns", lambda: [workload("DaemonSet", "exporter")], clock=clock)  # type: ignore[arg-type]
    cluster.pods = [pod(PORT_TAKEN)]
    assert watch() is None
    clock.now = 5
    assert watch() is None
    cluster.pods = [pod(CPU)]  # the scheduler changed its mind: start over
    clock.now = 11
    assert watch() is None
    cluster.pods = [pod(PORT_TAKEN)]
    clock.now = 12
    assert watch() is None
    clock.now = 22
    assert watch() == f"DaemonSet exporter: {blockers.scheduling_blocker(PORT_TAKEN)}"
    cluster.pods = [{**pod(PORT_TAKEN), "metadata": {"name": "old", "deletionTimestamp": "x"}}]
    assert watch() is None  # a pod of its own is going: what it holds is freed soon


def test_where_an_autoscaler_runs_only_its_refusal_or_a_daemonsets_pinning_is_a_verdict() -> None:
    cluster, clock = Cluster(), FakeClock()
    cluster.objects[("ConfigMap", "kube-system", "cluster-autoscaler-status")] = {}
    objects = [workload("Deployment", "server"), workload("DaemonSet", "exporter")]
    watch = ReleaseWatch(cluster, "ns", lambda: objects, clock=clock)  # type: ignore[arg-type]
    cluster.pods = [pod(SELECTOR + PREEMPTION)]  # the same pod for either selector, for brevity
    assert watch() is None
    clock.now = 11
    found = watch()
    assert found is not None and found.startswith("DaemonSet exporter: ")  # no node helps it
    assert watch.autoscaled()

    cluster.objects.clear()
    deployment_only = ReleaseWatch(cluster, "ns", lambda: objects[:1], clock=clock)  # type: ignore[arg-type]
    cluster.objects[("ConfigMap", "kube-system", "cluster-autoscaler-status")] = {}
    assert deployment_only() is None
    clock.now = 30
    assert deployment_only() is None  # the autoscaler may yet add a node
    cluster.events = [
        {
            "reason": "NotTriggerScaleUp",
            "involvedObject": {"kind": "Pod", "name": "p"},
            "message": "pod didn't trigger scale-up: 1 node(s) didn't match Pod's node affinity",
        }
    ]
    clock.now = 45
    assert deployment_only() is None  # believed from now on, once settled
    clock.now = 56
    assert deployment_only() == f"Deployment server: {blockers.scheduling_blocker(SELECTOR)}"


def test_a_quota_refusal_is_the_deployment_whose_replica_set_it_names_and_a_fresh_one() -> None:
    cluster, clock = Cluster(), FakeClock()
    objects = [workload("Deployment", "server"), workload("Deployment", "server-renderer")]
    watch = ReleaseWatch(cluster, "ns", lambda: objects, clock=clock)  # type: ignore[arg-type]
    now = datetime.now(UTC)

    def refused(replica_set: str, when: datetime) -> dict[str, Any]:
        return {
            "reason": "FailedCreate",
            "involvedObject": {"kind": "ReplicaSet", "name": replica_set},
            "message": QUOTA,
            "lastTimestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    cluster.events = [refused("server-renderer-5d8f7c", now - timedelta(minutes=5))]
    assert watch() is None
    clock.now = 20
    assert watch() is None  # an earlier attempt's Event
    cluster.events.append(refused("server-renderer-5d8f7c", now))
    assert watch() is None
    clock.now = 40
    assert watch() == f"Deployment server-renderer: {blockers.quota_blocker(QUOTA)}"


def test_a_watch_that_gives_a_reason_stops_a_running_process(tmp_path: Path) -> None:
    """A real process that would run for a minute, stopped on the watch's second answer."""
    script = tmp_path / "helm"
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    script.chmod(0o755)
    asked: list[float] = []

    def watch() -> str | None:
        asked.append(time.monotonic())
        return (
            "Deployment x: 0/3 nodes are available: 3 Insufficient luck" if len(asked) > 1 else None
        )

    started = time.monotonic()
    with pytest.raises(HelmBlocked) as raised:
        run_helm(
            script,
            ["install", "x"],
            env={},
            timeout=timedelta(minutes=1),
            redactor=Redactor(),
            watch=watch,
        )
    print(f"stopped after {time.monotonic() - started:.1f}s")
    assert raised.value.reason == "Deployment x: 0/3 nodes are available: 3 Insufficient luck"
    assert str(raised.value).startswith("helm install was stopped: Deployment x")
    assert not raised.value.transient
    assert len(asked) == 2


def test_a_blocked_install_spends_every_retry_and_stalls_saying_what_the_cluster_said() -> None:
    want = desired(retries=3)
    reason = "DaemonSet x: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity"
    failed = ActionResult(
        Action.INSTALL,
        False,
        "this spec cannot succeed as it is",
        counts_as_failure=True,
        hopeless=True,
        blocked=reason,
    )
    now = datetime(2026, 12, 1, tzinfo=UTC)
    after = after_action(None, want, failed, now)
    assert after is not None
    assert (after.failures, after.blocked, after.attempted_digest) == (4, reason, "want")

    absent = observed(ReleaseState.ABSENT)
    classification = _classified(Finding.ABSENT)
    decision = decide(classification, want, absent, after)
    assert (decision.action, decision.outcome) == (None, ComponentState.STALLED)
    assert decision.reason == (
        "not installed: this spec cannot succeed as it is; the cluster says it cannot come up: "
        + reason
    )

    changed = replace(desired(retries=3, version="29.28.0"), digest="other")
    assert decide(classification, changed, absent, after).action is Action.INSTALL
    installed = ActionResult(Action.INSTALL, True, "ok", revision=1)
    fresh = after_action(after, changed, installed, now)
    assert fresh is not None and (fresh.failures, fresh.blocked) == (0, "")


def test_a_blocked_upgrade_stalls_on_the_restored_revision_saying_why() -> None:
    want = desired(retries=1)
    record = ComponentStatus.model_validate(
        {
            "mode": "helm",
            "revision": 4,
            "verifiedRevision": 4,
            "tested": True,
            "failures": 2,
            "attemptedDigest": "want",
            "blocked": "Deployment x: 0/3 nodes are available: 3 node(s) had untolerated taint(s)",
        }
    )
    restored = observed(content_digest="old", desired_digest="old", revision=4)
    decision = decide(_classified(Finding.OUT_OF_SYNC), want, restored, record)
    assert decision.outcome is ComponentState.STALLED and decision.action is None
    assert "the cluster says it cannot come up: Deployment x: 0/3" in decision.reason
    assert "the last good revision runs" in decision.reason


def _classified(finding: Finding) -> Classification:
    return Classification(finding, str(finding), verified=True)

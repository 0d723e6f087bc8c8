"""Whether what the cluster says about a change's pods will not change without a person. Pure:
each function reads the cluster's own words (a pod's conditions and container states, an Event's
message, a claim and whether its storage class exists) and answers with the reason to report, or
None while waiting may still help.

What is recognised (the messages are kube-scheduler's, kubelet's and the controllers' of the
Kubernetes version the local stack runs, 1.34):

- **Scheduling** (a pod's ``PodScheduled=False`` condition, reason ``Unschedulable``, which holds
  the scheduler's ``FailedScheduling`` message): "0/3 nodes are available: 1 node(s) didn't have
  free ports for the requested pod ports, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].
  preemption: ...". Only the first sentence is kept. It is a blocker when **every** node was
  ruled out for a reason no pod finishing can lift: a host port another pod holds, a node
  selector or required node affinity no node meets, a DaemonSet pod pinned to another node, a
  taint the pod does not tolerate. One node ruled out for anything else ("Insufficient cpu",
  "node(s) were unschedulable", volumes, pod affinity) and the scheduler may place the pod once
  other pods finish, a node is uncordoned or volumes bind: that is left to the operation's
  deadline.
- **Taints** only where no node carries a taint the cluster itself sets and lifts
  (``node.kubernetes.io/not-ready``, ``unreachable``, ``unschedulable`` (a cordon), the cloud
  provider's ``uninitialized``, the autoscaler's ``ToBeDeletedByClusterAutoscaler``): a node
  joining or being drained says "untolerated taint(s)" as well, for a while.
- **Nodes being added**: a pod a cluster autoscaler is adding a node for (its
  ``TriggeredScaleUp`` Event) is no blocker, whatever the scheduler says now. Where a cluster
  autoscaler runs (its ``cluster-autoscaler-status`` ConfigMap in ``kube-system``: the
  open-source autoscaler's and GKE's), a pod is judged only once the autoscaler has said that no
  new node would take it (``NotTriggerScaleUp``), except a DaemonSet's pod, which is pinned to
  its node: no new node helps it.
- **A claim whose storage class does not exist**: the scheduler only says "pod has unbound
  immediate PersistentVolumeClaims"; the claim's ``storageClassName`` is looked up, and a class
  that is not there is the reason.
- **Quota**: a ReplicaSet's, DaemonSet's or StatefulSet's ``FailedCreate`` Event "pods ... is
  forbidden: exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=0, limited:
  requests.cpu=1" is a blocker when one pod alone asks for more than the quota's limit: it would
  not fit in an empty namespace. A pod that fits once others are gone is not.
- **Images**: ``InvalidImageName`` and ``ErrImageNeverPull`` at once; ``ErrImagePull`` and
  ``ImagePullBackOff`` when kubelet's message says the image is not there or access is denied
  (a registry that is down or slow is not).

Each is believed only once it has held for a settling time (:mod:`.watch`): a pod that is
pending for a second while a node joins is no verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from kubernetes.utils.quantity import parse_quantity

# kube-scheduler's reasons (pkg/scheduler/framework/plugins) that only a person lifts.
_PERMANENT_REASONS = (
    # NodePorts
    "didn't have free ports for the requested pod ports",
    # NodeAffinity (nodeSelector and required node affinity)
    "didn't match Pod's node affinity/selector",
    # NodeName
    "didn't match the requested node name",
    # The framework, when PreFilter left only other nodes (a DaemonSet pod pinned to its node)
    "didn't satisfy plugin(s) [NodeAffinity]",
)
# TaintToleration: "node(s) had untolerated taint(s)" (1.34), "{key: value}" in older releases.
_TAINT_REASON = re.compile(r"had untolerated taint")
# Taints the cluster sets and lifts itself: a node joining, unreachable, cordoned or drained.
_LIFECYCLE_TAINTS = re.compile(
    r"^(node\.kubernetes\.io/|node\.cloudprovider\.kubernetes\.io/"
    r"|ToBeDeletedByClusterAutoscaler$|DeletionCandidateOfClusterAutoscaler$)"
)
# "0/3 nodes are available: <n> <reason>, <n> <reason>"
_AVAILABLE = re.compile(r"^\d+/\d+ nodes are available: (?P<reasons>.*)$", re.DOTALL)
_COUNTED = re.compile(r"(\d+) (.+?)(?=, \d+ |$)")
_UNBOUND_CLAIMS = "pod has unbound immediate PersistentVolumeClaims"
_QUOTA = re.compile(
    r"exceeded quota: (?P<quota>[^,\s]+), requested: (?P<requested>\S+?), "
    r"used: (?P<used>\S+?), limited: (?P<limited>[^\s,]+(?:,[^\s,]+=[^\s,]+)*)"
)
_IMAGE_AT_ONCE = frozenset({"InvalidImageName", "ErrImageNeverPull"})
_IMAGE_PULL = frozenset({"ErrImagePull", "ImagePullBackOff"})
# What kubelet (through containerd or CRI-O) says when an image is not there or not allowed.
_IMAGE_MISSING = re.compile(
    r"not found|manifest unknown|NotFound|repository does not exist|pull access denied"
    r"|unauthorized|authorization failed|403 Forbidden|denied:",
    re.IGNORECASE,
)
MESSAGE_LENGTH = 400
"""A reason is cut to this many characters: a status message, not a log."""


def first_sentence(message: str) -> str:
    """The scheduler's verdict without what follows it ("no new claims to deallocate,
    preemption: ..."): up to the first ". "."""
    text = " ".join(message.split())
    head = text.split(". ", 1)[0].rstrip(".")
    return head[:MESSAGE_LENGTH]


def unschedulable(pod: Mapping[str, Any]) -> str | None:
    """The scheduler's message on a pod it could not place (``PodScheduled=False``)."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == "Unschedulable"
        ):
            return str(condition.get("message") or "")
    return None


def lifecycle_taints(nodes: Iterable[Mapping[str, Any]]) -> list[str]:
    """The taints the cluster sets and lifts itself that some node carries now."""
    found = []
    for node in nodes:
        for taint in (node.get("spec") or {}).get("taints") or []:
            key = str(taint.get("key") or "")
            if _LIFECYCLE_TAINTS.search(key):
                found.append(key)
    return sorted(set(found))


def scheduling_blocker(
    message: str,
    *,
    passing_taints: bool = False,
    scaling_up: bool = False,
    node_may_come: bool = False,
) -> str | None:
    """The scheduler's first sentence when no node will take the pod until a person changes
    the spec or the cluster, else None. ``passing_taints``: some node carries a taint the
    cluster lifts itself (see :func:`lifecycle_taints`); ``scaling_up``: an autoscaler is
    adding a node for the pod; ``node_may_come``: an autoscaler may yet add one (it has not
    said it will not)."""
    if scaling_up or node_may_come:
        return None
    sentence = first_sentence(message)
    found = _AVAILABLE.match(sentence)
    if found is None:
        return None
    reasons = [reason for _, reason in _COUNTED.findall(found["reasons"])]
    if not reasons:
        return None  # "pod has unbound immediate PersistentVolumeClaims": see claim_blocker
    for reason in reasons:
        if _TAINT_REASON.search(reason):
            if passing_taints:
                return None
            continue
        if not any(permanent in reason for permanent in _PERMANENT_REASONS):
            return None
    return sentence


def waits_for_claims(message: str) -> bool:
    """The scheduler waits for the pod's claims to bind (their own state says why)."""
    return _UNBOUND_CLAIMS in message


def claim_blocker(claim: Mapping[str, Any], storage_class_exists: bool | None) -> str | None:
    """Why an unbound claim will stay so: the storage class it names does not exist.
    ``storage_class_exists``: the class was looked up (None: it could not be)."""
    spec, status = claim.get("spec") or {}, claim.get("status") or {}
    name = (claim.get("metadata") or {}).get("name", "")
    storage_class = spec.get("storageClassName")
    if status.get("phase") != "Pending" or not storage_class or spec.get("volumeName"):
        return None
    if storage_class_exists is False:
        return (
            f'PersistentVolumeClaim {name} asks for storage class "{storage_class}", '
            "which does not exist"
        )
    return None


def _amounts(text: str) -> dict[str, Decimal]:
    amounts = {}
    for item in text.split(","):
        resource, _, value = item.partition("=")
        try:
            amounts[resource] = Decimal(parse_quantity(value))  # type: ignore[no-untyped-call]
        except (ValueError, TypeError, InvalidOperation):
            continue
    return amounts


def quota_blocker(message: str) -> str | None:
    """A controller's ``FailedCreate`` message when one pod alone asks for more than a quota
    allows (it would not fit in an empty namespace), else None."""
    found = _QUOTA.search(message)
    if found is None:
        return None
    requested, limited = _amounts(found["requested"]), _amounts(found["limited"])
    over = [
        f"{resource}={found_value}"
        for resource, found_value in requested.items()
        if resource in limited and found_value > limited[resource]
    ]
    if not over:
        return None
    start = message.find("exceeded quota: ")
    return " ".join(message[start:].split())[:MESSAGE_LENGTH]


def image_blocker(pod: Mapping[str, Any]) -> str | None:
    """A container whose image kubelet reports cannot be pulled: not there, not allowed, or
    not a valid name."""
    status = pod.get("status") or {}
    for container in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason, detail = str(waiting.get("reason") or ""), str(waiting.get("message") or "")
        if reason in _IMAGE_AT_ONCE or (reason in _IMAGE_PULL and _IMAGE_MISSING.search(detail)):
            said = f"container {container.get('name')} {reason}"
            return f"{said}: {' '.join(detail.split())}"[:MESSAGE_LENGTH] if detail else said
    return None

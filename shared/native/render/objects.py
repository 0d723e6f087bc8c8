"""The Kubernetes objects every component is made of, as plain dicts: ServiceAccount, ConfigMap,
Services and the workload (a StatefulSet with one volume claim per pod where the values ask for
persistence, else a Deployment with an emptyDir).

Pods run under the restricted Pod Security Standard: a fixed non-root user, no privilege
escalation, every capability dropped, the runtime's default seccomp profile. The pod template
carries the checksum of the component's configuration, so a configuration change rolls the pods
and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...labels import CHECKSUM_ANNOTATION
from .naming import Target
from .reading import RenderError, Values

DATA_VOLUME = "data"
CONFIG_VOLUME = "config"


def checksum(data: Mapping[str, str]) -> str:
    """The SHA-256 of a ConfigMap's data, independent of key order."""
    text = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def metadata(target: Target, name: str, part: str, *, namespaced: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name, "labels": target.object_labels(part)}
    if namespaced:
        result["namespace"] = target.namespace
    return result


def config_map(target: Target, part: str, data: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(target, target.native(), part),
        "data": dict(data),
    }


def service_account(target: Target, part: str, *, automount: bool) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(target, target.native(), part),
        # Only a component that reads the Kubernetes API gets a token in its pods.
        "automountServiceAccountToken": automount,
    }


@dataclass(frozen=True)
class ServicePort:
    name: str
    port: int
    target_port: int | str
    protocol: str = "TCP"

    def render(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "port": self.port,
            "targetPort": self.target_port,
            "protocol": self.protocol,
        }


def service(
    target: Target, name: str, part: str, ports: list[ServicePort], *, headless: bool = False
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": target.selector,
        "ports": [port.render() for port in ports],
    }
    if headless:
        # The StatefulSet's governing Service and peer discovery: every pod, ready or not, so
        # that replicas starting together find each other.
        spec["clusterIP"] = "None"
        spec["publishNotReadyAddresses"] = True
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(target, name, part),
        "spec": spec,
    }


def http_probe(path: str, port: str, *, delay: int, period: int = 10, failures: int = 3) -> Any:
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


@dataclass(frozen=True)
class Storage:
    """The component's data volume: claimed per pod when ``persistent``, else an emptyDir."""

    persistent: bool
    mount_path: str
    size: str = "10Gi"
    storage_class: str = ""
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)

    @classmethod
    def read(
        cls,
        values: Values,
        path: tuple[str, ...],
        *,
        mount_path: str,
        enabled: bool,
        class_key: str,
    ) -> Storage:
        """From a chart's persistence block (``enabled``, ``size``, ``accessModes`` and the
        storage class under ``class_key``, which the charts name differently)."""
        modes = values.sequence(*path, "accessModes") or ["ReadWriteOnce"]
        if not all(isinstance(mode, str) for mode in modes):
            where = values.where((*path, "accessModes"))
            raise RenderError(f"{where}: expected a list of names")
        return cls(
            persistent=values.flag(*path, "enabled", default=enabled),
            mount_path=mount_path,
            size=values.text(*path, "size", default="10Gi"),
            storage_class=values.text(*path, class_key),
            access_modes=tuple(modes),
        )

    def claim_template(self, target: Target, part: str) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "accessModes": list(self.access_modes),
            "resources": {"requests": {"storage": self.size}},
        }
        # As the charts read it: "-" asks for no class at all (no dynamic provisioning).
        if self.storage_class == "-":
            spec["storageClassName"] = ""
        elif self.storage_class:
            spec["storageClassName"] = self.storage_class
        # The claims carry the component's labels, so a person can tell whose data they hold.
        # Pruning never looks at claims (see shared.native.apply.PRUNABLE): nothing here
        # renders one, and they outlive the component, as with Helm.
        return {
            "metadata": {"name": DATA_VOLUME, "labels": target.object_labels(part)},
            "spec": spec,
        }


@dataclass(frozen=True)
class Placement:
    node_selector: dict[str, Any]
    tolerations: list[dict[str, Any]]
    affinity: dict[str, Any]

    @classmethod
    def read(cls, values: Values, *section: str) -> Placement:
        return cls(
            node_selector=values.mapping(*section, "nodeSelector"),
            tolerations=values.mappings(*section, "tolerations"),
            affinity=values.mapping(*section, "affinity"),
        )

    def render(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.node_selector:
            result["nodeSelector"] = self.node_selector
        if self.tolerations:
            result["tolerations"] = self.tolerations
        if self.affinity:
            result["affinity"] = self.affinity
        return result


@dataclass(frozen=True)
class Pod:
    """What a component's workload runs. ``container`` is the main container without its
    security context and data volume mount, which every component gets alike."""

    part: str
    replicas: int
    container: dict[str, Any]
    storage: Storage
    user: int
    placement: Placement
    config_checksum: str
    volumes: list[dict[str, Any]] = field(default_factory=list)
    automount_token: bool = False
    grace_seconds: int = 30


def _container(pod: Pod) -> dict[str, Any]:
    container = dict(pod.container)
    mounts = [{"name": DATA_VOLUME, "mountPath": pod.storage.mount_path}]
    container["volumeMounts"] = mounts + list(container.get("volumeMounts", []))
    container["imagePullPolicy"] = "IfNotPresent"
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": pod.user,
        "runAsGroup": pod.user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return container


def _pod_spec(target: Target, pod: Pod) -> dict[str, Any]:
    volumes = list(pod.volumes)
    if not pod.storage.persistent:
        volumes.insert(0, {"name": DATA_VOLUME, "emptyDir": {}})
    spec: dict[str, Any] = {
        "serviceAccountName": target.native(),
        "automountServiceAccountToken": pod.automount_token,
        # Pods need no environment variables for every Service of the namespace.
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": pod.user,
            "runAsGroup": pod.user,
            # Volumes are made writable for the component's user.
            "fsGroup": pod.user,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationGracePeriodSeconds": pod.grace_seconds,
        "containers": [_container(pod)],
        "volumes": volumes,
        **pod.placement.render(),
    }
    return spec


def workload(target: Target, pod: Pod) -> dict[str, Any]:
    """A StatefulSet with a volume claim per pod when the data is persistent, else a
    Deployment."""
    template = {
        "metadata": {
            "labels": target.pod_labels(pod.part),
            "annotations": {CHECKSUM_ANNOTATION: pod.config_checksum},
        },
        "spec": _pod_spec(target, pod),
    }
    spec: dict[str, Any] = {
        "replicas": pod.replicas,
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": target.selector},
        "template": template,
    }
    if pod.storage.persistent:
        spec["serviceName"] = target.native()
        # Replicas start together: peers that discover each other need not wait in line.
        spec["podManagementPolicy"] = "Parallel"
        spec["volumeClaimTemplates"] = [pod.storage.claim_template(target, pod.part)]
        kind = "StatefulSet"
    else:
        kind = "Deployment"
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": metadata(target, target.native(), pod.part),
        "spec": spec,
    }


def secret_mounts(values: Values, *path: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts for a chart's ``extraSecretMounts``: Secrets are mounted by name,
    their content never read."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for index, entry in enumerate(values.mappings(*path)):
        where = (*path, str(index))
        name = values.text(*where, "name")
        secret_name = values.text(*where, "secretName")
        mount_path = values.text(*where, "mountPath")
        if not (name and secret_name and mount_path):
            raise RenderError(f"{values.where(where)}: needs name, secretName and mountPath")
        secret: dict[str, Any] = {"secretName": secret_name}
        if "optional" in entry:
            secret["optional"] = values.flag(*where, "optional", default=False)
        if "defaultMode" in entry:
            secret["defaultMode"] = values.integer(*where, "defaultMode", default=0o440)
        volumes.append({"name": name, "secret": secret})
        mount: dict[str, Any] = {
            "name": name,
            "mountPath": mount_path,
            "readOnly": values.flag(*where, "readOnly", default=True),
        }
        if sub_path := values.text(*where, "subPath"):
            mount["subPath"] = sub_path
        mounts.append(mount)
    return volumes, mounts

"""Values for the prometheus chart (prometheus-community, 29.x)."""

from __future__ import annotations

import hashlib
from typing import Any

import yaml

from ..names import release_name
from ..spec.prometheus import PrometheusSpec, RemoteWrite
from .context import PlatformContext, own_names, placement, resources, secret_file, secret_mount

# Kept because setting server.extraFlags replaces the chart's list, which holds it.
LIFECYCLE_FLAG = "web.enable-lifecycle"
# The pod's own name, from the downward API; Prometheus 3 expands ${VAR} in external labels.
POD_NAME_VARIABLE = "POD_NAME"


# The chart's default jobs that discover through Kubernetes, by key in its ``scrapeConfigs`` map
# (the key is the job's name), with the role each discovers.
NAMESPACED_JOBS: dict[str, str] = {
    "kubernetes-service-endpoints": "endpointslice",
    "kubernetes-service-endpoints-slow": "endpointslice",
    "prometheus-pushgateway": "service",
    "kubernetes-services": "service",
    "kubernetes-pods": "pod",
    "kubernetes-pods-slow": "pod",
}
# The chart's default jobs that read the cluster itself (the API servers' endpoints in
# ``default``, every node): off unless discovery is cluster-wide.
CLUSTER_JOBS: tuple[str, ...] = (
    "kubernetes-api-servers",
    "kubernetes-nodes",
    "kubernetes-nodes-cadvisor",
)
# What discovery reads in each namespace it looks in: the namespaced part of the chart's
# ClusterRole (no nodes, no /metrics, and no ConfigMaps, which discovery never reads).
DISCOVERY_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [""],
        "resources": ["services", "endpoints", "pods"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["discovery.k8s.io"],
        "resources": ["endpointslices"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses"],
        "verbs": ["get", "list", "watch"],
    },
]
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def server_name(platform: str) -> str:
    """The chart's server fullname (its ServiceAccount's and RBAC's name): the release name
    holds the chart's, so ``<release>-server``."""
    return f"{release_name(platform, 'prometheus')}-server"[:63].rstrip("-")


def cluster_role_name(namespace: str, platform: str) -> str:
    """The server's ClusterRole (and binding) when discovery is cluster-wide:
    ``<namespace>:<release>-server`` (``:`` is in neither name, so two platforms never share
    one). The chart cuts the name at 63 characters; a longer one keeps a digest of the whole
    in its place, so that platforms of a long namespace stay apart."""
    name = f"{namespace}:{server_name(platform)}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[:50]}-{digest}"


def discovery_namespaces(spec: PrometheusSpec, namespace: str) -> list[str]:
    """The namespaces the server discovers in: the platform's own and those the spec names."""
    return list(dict.fromkeys([namespace, *spec.discovery.namespaces]))


def discovery_rbac(
    name: str, namespace: str, namespaces: list[str], release: str
) -> list[dict[str, Any]]:
    """A Role with the discovery reads and a RoleBinding to the server's ServiceAccount
    (``name`` in ``namespace``), in each of ``namespaces``, labelled as the chart labels the
    server's objects."""
    labels = {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "server",
    }
    objects: list[dict[str, Any]] = []
    for where in namespaces:
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": name, "namespace": where, "labels": labels},
                "rules": DISCOVERY_RULES,
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": where, "labels": labels},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            }
        )
    return objects


def _alertmanagers(release: str, namespace: str) -> list[dict[str, Any]]:
    """The chart's own Alertmanager discovery, as it writes it when ``server.alertmanagers`` is
    empty, less its cluster-wide list of pods: its relabelling keeps this namespace's only."""
    return [
        {
            "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [namespace]}}],
            "tls_config": {"ca_file": f"{SERVICE_ACCOUNT_DIR}/ca.crt"},
            "bearer_token_file": f"{SERVICE_ACCOUNT_DIR}/token",
            "relabel_configs": [
                {
                    "source_labels": ["__meta_kubernetes_namespace"],
                    "regex": namespace,
                    "action": "keep",
                },
                {
                    "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"],
                    "regex": release,
                    "action": "keep",
                },
                {
                    "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                    "regex": "alertmanager",
                    "action": "keep",
                },
                {
                    "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                    "regex": "9093",
                    "action": "keep",
                },
            ],
        }
    ]


def _discovery(spec: PrometheusSpec, context: PlatformContext) -> dict[str, Any]:
    """The values that keep discovery, and the server's RBAC, to the namespaces the spec names:
    the chart's ClusterRole and binding off (``rbac.create``), a Role and RoleBinding per
    namespace as extra manifests, the default jobs restricted to those namespaces and those
    that read the cluster off. Cluster-wide, the chart's own ClusterRole, named per platform
    so that two platforms of one name in two namespaces do not share one."""
    release = release_name(context.name, "prometheus")
    name = server_name(context.name)
    if spec.discovery.cluster_wide:
        return {
            "rbac": {"create": True},
            "server": {"clusterRoleNameOverride": cluster_role_name(context.namespace, context.name)},
        }
    namespaces = discovery_namespaces(spec, context.namespace)
    scrape: dict[str, Any] = {job: {"enabled": False} for job in CLUSTER_JOBS}
    for job, role in NAMESPACED_JOBS.items():
        scrape[job] = {
            "kubernetes_sd_configs": [{"role": role, "namespaces": {"names": namespaces}}]
        }
    values: dict[str, Any] = {
        "rbac": {"create": False},
        "serviceAccounts": {"server": {"create": True, "name": name}},
        "extraManifests": [
            yaml.safe_dump(document, sort_keys=False)
            for document in discovery_rbac(name, context.namespace, namespaces, release)
        ],
        "scrapeConfigs": scrape,
    }
    if spec.alertmanager.enabled:
        values["server"] = {"alertmanagers": _alertmanagers(release, context.namespace)}
    return values


def _remote_write(remote: RemoteWrite) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": remote.url}
    if remote.name:
        entry["name"] = remote.name
    if remote.headers:
        entry["headers"] = dict(remote.headers)
    if remote.remote_timeout:
        entry["remote_timeout"] = remote.remote_timeout
    if remote.queue_config:
        entry["queue_config"] = own_names(remote.queue_config)
    if remote.write_relabel_configs:
        entry["write_relabel_configs"] = [own_names(c) for c in remote.write_relabel_configs]
    if remote.basic_auth:
        entry["basic_auth"] = {
            "username": remote.basic_auth.username,
            "password_file": secret_file(remote.basic_auth.password_secret_ref),
        }
    if remote.bearer_token_secret_ref:
        entry["authorization"] = {
            "type": "Bearer",
            "credentials_file": secret_file(remote.bearer_token_secret_ref),
        }
    return entry


def _secret_mounts(spec: PrometheusSpec) -> list[dict[str, Any]]:
    names: list[str] = []
    for remote in spec.remote_write:
        for ref in (
            remote.basic_auth.password_secret_ref if remote.basic_auth else None,
            remote.bearer_token_secret_ref,
        ):
            if ref and ref.name not in names:
                names.append(ref.name)
    return [secret_mount(name) for name in names]


def derive(spec: PrometheusSpec, context: PlatformContext) -> dict[str, Any]:
    server: dict[str, Any] = {**placement(spec, context)}
    flags = [LIFECYCLE_FLAG, f"log.level={context.global_.log_level}"]
    tempo_writes_here = "tempo" in context.enabled
    if tempo_writes_here:
        # Tempo's metrics generator remote-writes into this Prometheus by default.
        flags.append("web.enable-remote-write-receiver")
    server["extraFlags"] = flags
    if resources(spec):
        server["resources"] = resources(spec)
    if spec.retention:
        server["retention"] = spec.retention
    if spec.retention_size:
        server["retentionSize"] = spec.retention_size
    global_config: dict[str, Any] = {}
    labels = {**context.global_.external_labels, **spec.external_labels}
    replicas = spec.replicas if spec.replicas is not None else 1
    if replicas > 1:
        # Replicas scrape the same targets: a label of their own lets a receiver deduplicate.
        labels[spec.replica_label] = f"${{{POD_NAME_VARIABLE}}}"
        server["env"] = [
            {
                "name": POD_NAME_VARIABLE,
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
            }
        ]
    if labels:
        global_config["external_labels"] = labels
    if spec.scrape_interval:
        global_config["scrape_interval"] = spec.scrape_interval
    if global_config:
        server["global"] = global_config
    if spec.remote_write:
        server["remoteWrite"] = [_remote_write(remote) for remote in spec.remote_write]
    if mounts := _secret_mounts(spec):
        server["extraSecretMounts"] = mounts
    server["replicaCount"] = replicas
    volume: dict[str, Any] = {}
    if spec.storage:
        volume["enabled"] = spec.storage.enabled
        if spec.storage.size:
            volume["size"] = spec.storage.size
        if spec.storage.storage_class_name:
            volume["storageClass"] = spec.storage.storage_class_name
    if volume:
        server["persistentVolume"] = volume
    persistent = spec.storage.enabled if spec.storage else True
    # More than one server needs one volume each: a StatefulSet, as upstream advises.
    server["statefulSet"] = {"enabled": replicas > 1 and persistent}
    discovery = _discovery(spec, context)
    server.update(discovery.pop("server", {}))
    values: dict[str, Any] = {
        **discovery,
        "server": server,
        "alertmanager": {"enabled": spec.alertmanager.enabled},
        "prometheus-node-exporter": {"enabled": spec.node_exporter.enabled},
        "kube-state-metrics": {"enabled": spec.kube_state_metrics.enabled},
        "prometheus-pushgateway": {"enabled": spec.pushgateway.enabled},
    }
    if spec.additional_scrape_configs:
        values["extraScrapeConfigs"] = yaml.safe_dump(
            spec.additional_scrape_configs, sort_keys=False
        )
    return values

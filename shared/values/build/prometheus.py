"""Values for the prometheus chart (prometheus-community, 29.x)."""

from __future__ import annotations

from typing import Any

import yaml

from ..spec.prometheus import PrometheusSpec, RemoteWrite
from .context import PlatformContext, own_names, placement, resources, secret_file, secret_mount

# Kept because setting server.extraFlags replaces the chart's list, which holds it.
LIFECYCLE_FLAG = "web.enable-lifecycle"
# The pod's own name, from the downward API; Prometheus 3 expands ${VAR} in external labels.
POD_NAME_VARIABLE = "POD_NAME"


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
    values: dict[str, Any] = {
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

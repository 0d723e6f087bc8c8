"""Values for the loki chart (grafana-community, 18.x)."""

from __future__ import annotations

from typing import Any

from ..spec.loki import LokiSpec
from .context import PlatformContext, own_names, placement, resources

# The components that run, and hold data, in each deployment mode.
TARGETS = {
    "Monolithic": ("singleBinary",),
    "SimpleScalable": ("read", "write", "backend"),
    "Distributed": ("ingester", "distributor", "querier", "queryFrontend", "compactor"),
}
STATEFUL = {"singleBinary", "write", "backend", "ingester"}


def _storage(spec: LokiSpec) -> dict[str, Any]:
    storage = spec.storage
    result: dict[str, Any] = {"type": storage.type}
    if storage.bucket_names:
        chunks = storage.bucket_names.chunks
        result["bucketNames"] = {
            "chunks": chunks,
            "ruler": storage.bucket_names.ruler or chunks,
            "admin": storage.bucket_names.admin or chunks,
        }
    if storage.type == "s3" and storage.s3:
        s3: dict[str, Any] = {
            "insecure": storage.s3.insecure,
            "s3ForcePathStyle": storage.s3.force_path_style,
        }
        if storage.s3.endpoint:
            s3["endpoint"] = storage.s3.endpoint
        if storage.s3.region:
            s3["region"] = storage.s3.region
        result["s3"] = s3
    if storage.type == "azure" and storage.azure:
        azure: dict[str, Any] = {"useManagedIdentity": storage.azure.use_managed_identity}
        if storage.azure.account_name:
            azure["accountName"] = storage.azure.account_name
        result["azure"] = azure
    return result


def _schema(spec: LokiSpec) -> dict[str, Any]:
    return {
        "configs": [
            {
                "from": period.from_.isoformat(),
                "store": period.store,
                "object_store": spec.storage.type,
                "schema": period.schema_version,
                "index": {"prefix": period.index_prefix, "period": period.index_period},
            }
            for period in spec.schema_config
        ]
    }


def derive(spec: LokiSpec, context: PlatformContext) -> dict[str, Any]:
    mode = "Monolithic" if spec.deployment_mode == "SingleBinary" else spec.deployment_mode
    loki: dict[str, Any] = {
        "storage": _storage(spec),
        "schemaConfig": _schema(spec),
        "server": {"log_level": context.global_.log_level},
    }
    limits = own_names(spec.limits) if spec.limits else {}
    if spec.retention:
        limits["retention_period"] = spec.retention
    if limits:
        loki["limits_config"] = limits
    if spec.retention:
        # Retention is enforced by the compactor, which needs a store for delete requests.
        loki["compactor"] = {"retention_enabled": True, "delete_request_store": spec.storage.type}
    replicas = spec.replicas if spec.replicas is not None else 1
    # Each stream is written to this many ingesters; more copies than pods cannot be placed.
    loki["commonConfig"] = {"replication_factor": min(replicas, 3)}
    values: dict[str, Any] = {"deploymentMode": mode, "loki": loki}
    if spec.storage.credentials_secret_ref:
        values["global"] = {
            "extraEnvFrom": [{"secretRef": {"name": spec.storage.credentials_secret_ref.name}}]
        }
    section = {**placement(spec, context)}
    if resources(spec):
        section["resources"] = resources(spec)
    volume: dict[str, Any] = {}
    if spec.storage.size:
        volume["size"] = spec.storage.size
    if spec.storage.storage_class_name:
        volume["storageClass"] = spec.storage.storage_class_name
    for mode_name, targets in TARGETS.items():
        for target in targets:
            values[target] = {"replicas": replicas if mode_name == mode else 0}
            if mode_name == mode:
                values[target].update(section)
                if volume and target in STATEFUL:
                    values[target]["persistence"] = dict(volume)
    if mode == "Distributed":
        values["compactor"]["replicas"] = 1
    # Loki's Helm test reads what the canary writes: one needs the other.
    values["test"] = {"enabled": spec.tests.enabled}
    values["lokiCanary"] = {"enabled": spec.tests.enabled}
    return values

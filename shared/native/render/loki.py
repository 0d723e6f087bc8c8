"""Loki natively: one binary running every target (``-target=all``), with the configuration the
chart writes from ``loki.*`` (auth, server, common storage on the filesystem or an object store,
the schema, limits and compactor, and ``loki.structuredConfig`` merged over it), replicas joined
in one ring through memberlist.

Objects: ServiceAccount, ConfigMap, the Services ``<release>`` (3100 http-metrics, 9095 grpc) and,
unless ``gateway.enabled`` is false, ``<release>-gateway`` (80 straight to Loki's 3100: no nginx
in native mode), a headless Service the replicas find each other through, and Loki: a
StatefulSet when its persistence is enabled, else a Deployment.

Every deployment mode runs as one binary here. Replicas, resources, placement and persistence
come from the part of the values the mode puts them in (``singleBinary``; ``write`` for
SimpleScalable; ``ingester`` for Distributed). Object storage credentials reach the pods as
environment variables from their Secret (``global.extraEnvFrom`` and the section's
``extraEnvFrom``), which Loki's storage clients read; keys written into the values are not
copied into the configuration.
"""

from __future__ import annotations

from typing import Any

from ...values.merge import effective, merge
from ...values.names import service_host
from ...values.yaml_text import to_yaml
from .images import image
from .naming import Target
from .objects import (
    CONFIG_VOLUME,
    Placement,
    Pod,
    ServicePort,
    Storage,
    checksum,
    config_map,
    http_probe,
    service,
    service_account,
    workload,
)
from .reading import RenderError, Values, over_chart_defaults

PART = "single-binary"
CONFIG_FILE = "config.yaml"
CONFIG_DIR = "/etc/loki/config"
DATA_DIR = "/var/loki"
MEMBERLIST_PORT = 7946
# The image's user.
USER = 10001
# Where each deployment mode keeps replicas, resources, placement and persistence.
SECTIONS = {
    "Monolithic": "singleBinary",
    "SingleBinary": "singleBinary",
    "SimpleScalable": "write",
    "Distributed": "ingester",
}
CHART_DEFAULTS: dict[str, Any] = {
    "deploymentMode": "Monolithic",
    "global": {"extraEnvFrom": []},
    "gateway": {"enabled": True},
    "loki": {
        "auth_enabled": True,
        "commonConfig": {"replication_factor": 3, "path_prefix": "/var/loki"},
        "server": {"http_listen_port": 3100, "grpc_listen_port": 9095},
        "storage": {
            "type": "s3",
            "bucketNames": {},
            "s3": {"s3ForcePathStyle": False, "insecure": False},
            "azure": {"useManagedIdentity": False},
            "filesystem": {
                "chunks_directory": "/var/loki/chunks",
                "rules_directory": "/var/loki/rules",
            },
        },
        "schemaConfig": {},
        "useTestSchema": False,
        "limits_config": {
            "reject_old_samples": True,
            "reject_old_samples_max_age": "168h",
            "max_cache_freshness_per_query": "10m",
            "split_queries_by_interval": "15m",
            "query_timeout": "300s",
            "volume_enabled": True,
        },
        "compactor": {},
        "structuredConfig": {},
    },
    "singleBinary": {"replicas": 0, "persistence": {"enabled": True, "size": "10Gi"}},
    "write": {"replicas": 3, "persistence": {"enabled": True, "size": "10Gi"}},
    "ingester": {"replicas": 0, "persistence": {"enabled": True, "size": "10Gi"}},
}
TEST_SCHEMA = {
    "from": "2024-04-01",
    "store": "tsdb",
    "schema": "v13",
    "index": {"prefix": "index_", "period": "24h"},
}


def _object_store(values: Values, kind: str) -> dict[str, Any]:
    """The storage client block of ``common.storage`` and the ruler's, for an object store."""
    bucket = values.text("loki", "storage", "bucketNames", "chunks")
    if not bucket:
        raise RenderError(f"{values.where(('loki', 'storage', 'bucketNames', 'chunks'))}: required")
    if kind == "s3":
        s3: dict[str, Any] = {
            "bucketnames": bucket,
            "s3forcepathstyle": values.flag(
                "loki", "storage", "s3", "s3ForcePathStyle", default=False
            ),
            "insecure": values.flag("loki", "storage", "s3", "insecure", default=False),
        }
        for key in ("endpoint", "region"):
            if value := values.text("loki", "storage", "s3", key):
                s3[key] = value
        return s3
    if kind == "gcs":
        return {"bucket_name": bucket}
    azure: dict[str, Any] = {
        "container_name": bucket,
        "use_managed_identity": values.flag(
            "loki", "storage", "azure", "useManagedIdentity", default=False
        ),
    }
    if account := values.text("loki", "storage", "azure", "accountName"):
        azure["account_name"] = account
    return azure


def _ruler_store(values: Values, kind: str, client: dict[str, Any]) -> dict[str, Any]:
    """Rules go to the ruler bucket (the chunks bucket when none is named)."""
    ruler = values.text("loki", "storage", "bucketNames", "ruler")
    if ruler:
        key = {"s3": "bucketnames", "gcs": "bucket_name", "azure": "container_name"}[kind]
        client = {**client, key: ruler}
    return {"storage": {"type": kind, kind: client}}


def _schema(values: Values) -> dict[str, Any]:
    schema = values.mapping("loki", "schemaConfig")
    test_schema = values.flag("loki", "useTestSchema", default=False)
    if schema and test_schema:
        raise RenderError(
            "loki values: loki.schemaConfig and loki.useTestSchema exclude each other"
        )
    if test_schema:
        kind = values.text("loki", "storage", "type")
        return {"configs": [{**TEST_SCHEMA, "object_store": kind}]}
    if not schema.get("configs"):
        raise RenderError(f"{values.where(('loki', 'schemaConfig'))}: Loki needs a schema")
    return schema


def configuration(values: Values, target: Target) -> dict[str, Any]:
    """Loki's ``config.yaml``."""
    kind = values.text("loki", "storage", "type")
    common: dict[str, Any] = {
        "path_prefix": values.text("loki", "commonConfig", "path_prefix", default=DATA_DIR),
        "replication_factor": values.integer(
            "loki", "commonConfig", "replication_factor", default=1
        ),
        # Replicas share their rings through memberlist (a single one with itself).
        "ring": {"kvstore": {"store": "memberlist"}},
    }
    config: dict[str, Any] = {
        "auth_enabled": values.flag("loki", "auth_enabled", default=True),
        "server": values.mapping("loki", "server"),
        "common": common,
        "memberlist": {
            "join_members": [
                f"dns+{service_host(target.native(), target.namespace)}:{MEMBERLIST_PORT}"
            ]
        },
        "schema_config": _schema(values),
        "limits_config": values.mapping("loki", "limits_config"),
    }
    if kind == "filesystem":
        common["storage"] = {"filesystem": values.mapping("loki", "storage", "filesystem")}
    elif kind in {"s3", "gcs", "azure"}:
        client = _object_store(values, kind)
        common["storage"] = {kind: client}
        config["ruler"] = _ruler_store(values, kind, client)
    else:
        raise RenderError(
            f"{values.where(('loki', 'storage', 'type'))}: native mode stores in the "
            "filesystem, s3, gcs or azure"
        )
    if compactor := values.mapping("loki", "compactor"):
        config["compactor"] = compactor
    return effective(merge(config, values.mapping("loki", "structuredConfig")))


def render(target: Target, raw: dict[str, Any], app_version: str | None) -> list[dict[str, Any]]:
    values = Values("loki", over_chart_defaults(CHART_DEFAULTS, raw))
    mode = values.text("deploymentMode")
    if mode not in SECTIONS:
        raise RenderError(f"{values.where(('deploymentMode',))}: not a deployment mode")
    section = SECTIONS[mode]
    data = {CONFIG_FILE: to_yaml(configuration(values, target))}
    storage = Storage.read(
        values,
        (section, "persistence"),
        mount_path=values.text("loki", "commonConfig", "path_prefix", default=DATA_DIR),
        enabled=True,
        class_key="storageClass",
    )
    http_port = values.integer("loki", "server", "http_listen_port", default=3100)
    grpc_port = values.integer("loki", "server", "grpc_listen_port", default=9095)
    container: dict[str, Any] = {
        "name": "loki",
        "image": image("loki", app_version, values.text("loki", "image", "tag")),
        "args": [f"-config.file={CONFIG_DIR}/{CONFIG_FILE}", "-target=all"],
        "ports": [
            {"name": "http-metrics", "containerPort": http_port, "protocol": "TCP"},
            {"name": "grpc", "containerPort": grpc_port, "protocol": "TCP"},
            {"name": "memberlist", "containerPort": MEMBERLIST_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": http_probe("/ready", "http-metrics", delay=15),
        "volumeMounts": [{"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    env_from = values.mappings("global", "extraEnvFrom") + values.mappings(section, "extraEnvFrom")
    if env_from:
        container["envFrom"] = env_from
    if env := values.mappings(section, "extraEnv"):
        container["env"] = env
    if resources := values.mapping(section, "resources"):
        container["resources"] = resources
    pod = Pod(
        part=PART,
        replicas=values.integer(section, "replicas", default=1),
        container=container,
        storage=storage,
        user=USER,
        placement=Placement.read(values, section),
        config_checksum=checksum(data),
        volumes=[{"name": CONFIG_VOLUME, "configMap": {"name": target.native()}}],
        # Time to flush what the ingester holds in memory.
        grace_seconds=300,
    )
    http = ServicePort("http-metrics", 3100, "http-metrics")
    objects = [
        service_account(target, PART, automount=False),
        config_map(target, PART, data),
        service(target, target.release, PART, [http, ServicePort("grpc", 9095, "grpc")]),
        service(
            target,
            target.native(),
            PART,
            [ServicePort("memberlist", MEMBERLIST_PORT, "memberlist")],
            headless=True,
        ),
        workload(target, pod),
    ]
    if values.flag("gateway", "enabled", default=True):
        gateway = ServicePort("http-metrics", 80, "http-metrics")
        objects.append(service(target, f"{target.release}-gateway", PART, [gateway]))
    return objects

"""Tempo natively: the single binary with the configuration the chart writes from ``tempo.*``:
server, receivers, block retention, trace storage, the metrics generator's remote write and the
overrides (where the generator's processors are turned on for every tenant).

Objects: ServiceAccount, ConfigMap, the Service ``<release>`` (3200 http, 4317 otlp-grpc,
4318 otlp-http, 9411 zipkin, 14268 jaeger-http, and Jaeger's gRPC and UDP ports, as the
chart's), a headless Service for a StatefulSet, and Tempo: a StatefulSet when
``persistence.enabled``, else a Deployment. Object storage credentials reach the pod as
environment variables from their Secret (``tempo.extraEnvFrom``).
"""

from __future__ import annotations

from typing import Any

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

PART = "tempo"
CONFIG_FILE = "tempo.yaml"
CONFIG_DIR = "/conf"
DATA_DIR = "/var/tempo"
GENERATOR_DIR = f"{DATA_DIR}/generator"
# The image's user.
USER = 10001
CHART_DEFAULTS: dict[str, Any] = {
    "replicas": 1,
    "tempo": {
        "retention": "24h",
        "reportingEnabled": True,
        "server": {"http_listen_port": 3200},
        "receivers": {
            "jaeger": {
                "protocols": {
                    "grpc": {"endpoint": "0.0.0.0:14250"},
                    "thrift_binary": {"endpoint": "0.0.0.0:6832"},
                    "thrift_compact": {"endpoint": "0.0.0.0:6831"},
                    "thrift_http": {"endpoint": "0.0.0.0:14268"},
                }
            },
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": "0.0.0.0:4317"},
                    "http": {"endpoint": "0.0.0.0:4318"},
                }
            },
        },
        "metricsGenerator": {"enabled": False},
        "storage": {
            "trace": {
                "backend": "local",
                "local": {"path": f"{DATA_DIR}/traces"},
                "wal": {"path": f"{DATA_DIR}/wal"},
            }
        },
        "overrides": {},
        "extraEnvFrom": [],
    },
    "persistence": {"enabled": False, "size": "10Gi", "accessModes": ["ReadWriteOnce"]},
}
# name, port, protocol: the container's ports and the Service's, which has the chart's.
PORTS = (
    ("http", 3200, "TCP"),
    ("otlp-grpc", 4317, "TCP"),
    ("otlp-http", 4318, "TCP"),
    ("zipkin", 9411, "TCP"),
    ("jaeger-http", 14268, "TCP"),
    ("jaeger-grpc", 14250, "TCP"),
    ("jaeger-compact", 6831, "UDP"),
    ("jaeger-binary", 6832, "UDP"),
)


def configuration(values: Values) -> dict[str, Any]:
    """Tempo's ``tempo.yaml``."""
    config: dict[str, Any] = {
        "server": values.mapping("tempo", "server"),
        "usage_report": {
            "reporting_enabled": values.flag("tempo", "reportingEnabled", default=True)
        },
        "distributor": {"receivers": values.mapping("tempo", "receivers")},
        "compactor": {"compaction": {"block_retention": values.text("tempo", "retention")}},
        "storage": {"trace": values.mapping("tempo", "storage", "trace")},
    }
    if values.flag("tempo", "metricsGenerator", "enabled", default=False):
        url = values.text("tempo", "metricsGenerator", "remoteWriteUrl")
        if not url:
            where = values.where(("tempo", "metricsGenerator", "remoteWriteUrl"))
            raise RenderError(f"{where}: required while the metrics generator is enabled")
        config["metrics_generator"] = {
            "storage": {
                "path": f"{GENERATOR_DIR}/wal",
                "remote_write": [{"url": url, "send_exemplars": True}],
            },
            # Where the local-blocks processor keeps its blocks.
            "traces_storage": {"path": f"{GENERATOR_DIR}/traces"},
        }
    if overrides := values.mapping("tempo", "overrides"):
        config["overrides"] = overrides
    return config


def render(target: Target, raw: dict[str, Any], app_version: str | None) -> list[dict[str, Any]]:
    values = Values("tempo", over_chart_defaults(CHART_DEFAULTS, raw))
    data = {CONFIG_FILE: to_yaml(configuration(values))}
    storage = Storage.read(
        values,
        ("persistence",),
        mount_path=DATA_DIR,
        enabled=False,
        class_key="storageClassName",
    )
    http_port = values.integer("tempo", "server", "http_listen_port", default=3200)
    container: dict[str, Any] = {
        "name": "tempo",
        "image": image("tempo", app_version, values.text("tempo", "tag")),
        "args": [f"-config.file={CONFIG_DIR}/{CONFIG_FILE}"],
        "ports": [
            {
                "name": name,
                "containerPort": http_port if name == "http" else port,
                "protocol": protocol,
            }
            for name, port, protocol in PORTS
        ],
        "readinessProbe": http_probe("/ready", "http", delay=15),
        "volumeMounts": [{"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    if env_from := values.mappings("tempo", "extraEnvFrom"):
        container["envFrom"] = env_from
    if env := values.mappings("tempo", "extraEnv"):
        container["env"] = env
    if resources := values.mapping("tempo", "resources"):
        container["resources"] = resources
    pod = Pod(
        part=PART,
        replicas=values.integer("replicas", default=1),
        container=container,
        storage=storage,
        user=USER,
        placement=Placement.read(values),
        config_checksum=checksum(data),
        volumes=[{"name": CONFIG_VOLUME, "configMap": {"name": target.native()}}],
    )
    ports = [ServicePort(name, port, name, protocol) for name, port, protocol in PORTS]
    objects = [
        service_account(target, PART, automount=False),
        config_map(target, PART, data),
        service(target, target.release, PART, ports),
        workload(target, pod),
    ]
    if storage.persistent:
        objects.append(service(target, target.native(), PART, ports[:1], headless=True))
    return objects

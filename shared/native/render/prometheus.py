"""Prometheus natively: the server alone (no Alertmanager, exporters or Pushgateway), with the
same ``prometheus.yml`` the chart writes from the values (``server.global``, remote write and
read as the values carry them, snake_case, and the scrape jobs), the same flags, and the RBAC
Kubernetes service discovery needs.

Objects: ServiceAccount; the RBAC discovery needs: a Role and RoleBinding in each namespace the
default jobs discover in when ``scrapeConfigs`` keeps them to namespaces (the chart leaves those
to ``extraManifests``, which native mode does not read), else a ClusterRole and
ClusterRoleBinding (unless ``rbac.create`` is false); the ConfigMap, the Service
``<release>-server`` (80 to 9090, as the chart's), a headless Service for a StatefulSet, and the
server: a StatefulSet when ``server.persistentVolume.enabled``, else a Deployment.
Remote-write credentials stay in their Secrets, mounted from
``server.extraSecretMounts`` and read by Prometheus through ``password_file`` and
``credentials_file``.
"""

from __future__ import annotations

from typing import Any

from ...documents import MIB, DocumentError, DocumentLimits, load_document
from ...values.build.prometheus import DISCOVERY_RULES as NAMESPACED_DISCOVERY_RULES
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
    metadata,
    secret_mounts,
    service,
    service_account,
    workload,
)
from .prometheus_scrape import discovered_namespaces, scrape_configs
from .reading import RenderError, Values, over_chart_defaults

PART = "server"
PORT = 9090
CONFIG_FILE = "prometheus.yml"
CONFIG_DIR = "/etc/config"
DATA_DIR = "/data"
# The image's user: nobody.
USER = 65534
# What the chart defaults to, where the values may leave a key out.
CHART_DEFAULTS: dict[str, Any] = {
    "rbac": {"create": True},
    "extraScrapeConfigs": "",
    "server": {
        "replicaCount": 1,
        "retention": "15d",
        "retentionSize": "",
        "global": {"scrape_interval": "1m", "scrape_timeout": "10s", "evaluation_interval": "1m"},
        "remoteWrite": [],
        "remoteRead": [],
        "extraFlags": ["web.enable-lifecycle"],
        "persistentVolume": {"enabled": True, "size": "8Gi", "accessModes": ["ReadWriteOnce"]},
    },
}
# What service discovery reads, cluster-wide.
DISCOVERY_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [""],
        "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
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
    {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
]


SCRAPE_CONFIGS_DOCUMENT = DocumentLimits(
    max_bytes=MIB, max_size=MIB, max_nodes=100_000, max_depth=32, max_string=256 * 1024
)
"""How ``extraScrapeConfigs`` (a YAML document in a string) is read: as any other document."""


def extra_scrape_configs(values: Values) -> list[dict[str, Any]]:
    """The values' ``extraScrapeConfigs``: a YAML string holding a list of scrape configs."""
    text = values.text("extraScrapeConfigs")
    if not text.strip():
        return []
    try:
        jobs = load_document(text, SCRAPE_CONFIGS_DOCUMENT)
    except DocumentError as error:
        # By line and column only: a scrape config's keys name its credentials.
        where = f" ({error.position})" if error.position else ""
        raise RenderError(
            f"{values.where(('extraScrapeConfigs',))}: {error.problem}{where}"
        ) from None
    if jobs is None:
        return []
    if not isinstance(jobs, list) or not all(isinstance(job, dict) for job in jobs):
        raise RenderError(
            f"{values.where(('extraScrapeConfigs',))}: must be a YAML list of scrape configs"
        )
    return jobs


def configuration(values: Values) -> dict[str, Any]:
    """``prometheus.yml``."""
    config: dict[str, Any] = {"global": values.mapping("server", "global")}
    if remote_write := values.mappings("server", "remoteWrite"):
        config["remote_write"] = remote_write
    if remote_read := values.mappings("server", "remoteRead"):
        config["remote_read"] = remote_read
    config["scrape_configs"] = scrape_configs(extra_scrape_configs(values), _overrides(values))
    return config


def _overrides(values: Values) -> dict[str, Any]:
    return values.mapping("scrapeConfigs")


def _flags(values: Values) -> list[str]:
    args = [f"--config.file={CONFIG_DIR}/{CONFIG_FILE}", f"--storage.tsdb.path={DATA_DIR}"]
    # As the chart: an empty retention leaves Prometheus' own default.
    if retention := values.text("server", "retention"):
        args.append(f"--storage.tsdb.retention.time={retention}")
    if size := values.text("server", "retentionSize"):
        args.append(f"--storage.tsdb.retention.size={size}")
    for index, flag in enumerate(values.sequence("server", "extraFlags")):
        if not isinstance(flag, str) or not flag:
            raise RenderError(f"{values.where(('server', 'extraFlags', str(index)))}: not a flag")
        args.append(f"--{flag}")
    for name, value in sorted(values.mapping("server", "extraArgs").items()):
        args.append(f"--{name}" if value is None or value == "" else f"--{name}={value}")
    return args


def _namespaced_rbac(target: Target, namespaces: list[str]) -> list[dict[str, Any]]:
    """A Role with the namespaced discovery reads and its RoleBinding, in each namespace."""
    name = target.native()
    objects: list[dict[str, Any]] = []
    for namespace in namespaces:
        labelled = {**metadata(target, name, PART), "namespace": namespace}
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": labelled,
                "rules": NAMESPACED_DISCOVERY_RULES,
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": dict(labelled),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [
                    {
                        "kind": "ServiceAccount",
                        "name": target.native(),
                        "namespace": target.namespace,
                    }
                ],
            }
        )
    return objects


def _rbac(target: Target) -> list[dict[str, Any]]:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(target, target.cluster_wide, PART, namespaced=False),
        "rules": DISCOVERY_RULES,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(target, target.cluster_wide, PART, namespaced=False),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": target.cluster_wide,
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": target.native(), "namespace": target.namespace}
        ],
    }
    return [role, binding]


def render(target: Target, raw: dict[str, Any], app_version: str | None) -> list[dict[str, Any]]:
    values = Values("prometheus", over_chart_defaults(CHART_DEFAULTS, raw))
    data = {CONFIG_FILE: to_yaml(configuration(values))}
    storage = Storage.read(
        values,
        ("server", "persistentVolume"),
        mount_path=DATA_DIR,
        enabled=True,
        class_key="storageClass",
    )
    secret_volumes, secret_volume_mounts = secret_mounts(values, "server", "extraSecretMounts")
    container: dict[str, Any] = {
        "name": "prometheus",
        "image": image("prometheus", app_version, values.text("server", "image", "tag")),
        "args": _flags(values),
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": http_probe("/-/ready", "http", delay=10, period=5),
        # Replaying a large write-ahead log takes a while; /-/healthy answers meanwhile.
        "livenessProbe": http_probe("/-/healthy", "http", delay=30, period=15, failures=6),
        "volumeMounts": [
            {"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR, "readOnly": True},
            *secret_volume_mounts,
        ],
    }
    if env := values.mappings("server", "env"):
        container["env"] = env
    if resources := values.mapping("server", "resources"):
        container["resources"] = resources
    pod = Pod(
        part=PART,
        replicas=values.integer("server", "replicaCount", default=1),
        container=container,
        storage=storage,
        user=USER,
        placement=Placement.read(values, "server"),
        config_checksum=checksum(data),
        volumes=[
            {"name": CONFIG_VOLUME, "configMap": {"name": target.native()}},
            *secret_volumes,
        ],
        automount_token=True,
        # Time to write the head block out before the pod is killed.
        grace_seconds=300,
    )
    http = ServicePort("http", 80, "http")
    objects = [
        service_account(target, PART, automount=True),
        config_map(target, PART, data),
        service(target, f"{target.release}-server", PART, [http]),
        workload(target, pod),
    ]
    if storage.persistent:
        objects.append(service(target, target.native(), PART, [http], headless=True))
    namespaces = discovered_namespaces(scrape_configs([], _overrides(values)))
    if namespaces is not None:
        objects += _namespaced_rbac(target, namespaces)
    elif values.flag("rbac", "create", default=True):
        objects += _rbac(target)
    return objects

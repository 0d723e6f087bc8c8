"""Grafana natively: ``grafana.ini`` and the provisioned datasources the chart would write from
the values, the admin credentials and environment taken from existing Secrets, and the Service
``<release>`` (80 to 3000, as the chart's), which other components' links point at.

Objects: ServiceAccount, ConfigMap (``grafana.ini`` and each datasources file), the Service, an
Ingress when ``ingress.enabled``, and Grafana: a StatefulSet when ``persistence.enabled``, else a
Deployment.

Without ``admin.existingSecret`` the chart generates a random admin password into a Secret of its
own; a renderer copies no secret and invents none (its output is kept as the revision), so Grafana
then creates no admin user at all rather than the well-known default one.
"""

from __future__ import annotations

import re
from typing import Any

from ...values.yaml_text import to_yaml
from .grafana_ini import render_ini
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
from .reading import RenderError, Values, over_chart_defaults

PART = "grafana"
INI_FILE = "grafana.ini"
INI_PATH = "/etc/grafana/grafana.ini"
DATASOURCES_VOLUME = "datasources"
# The image's user.
USER = 472
# Where the image keeps things when grafana.ini says nothing.
IMAGE_PATHS = {
    "data": "/var/lib/grafana",
    "logs": "/var/log/grafana",
    "plugins": "/var/lib/grafana/plugins",
    "provisioning": "/etc/grafana/provisioning",
}
_FILE_NAME = re.compile(r"[-._a-zA-Z0-9]+")
CHART_DEFAULTS: dict[str, Any] = {
    "replicas": 1,
    "admin": {"existingSecret": "", "userKey": "admin-user", "passwordKey": "admin-password"},
    "grafana.ini": {
        "paths": {
            "data": "/var/lib/grafana/",
            "logs": "/var/log/grafana",
            "plugins": "/var/lib/grafana/plugins",
            "provisioning": "/etc/grafana/provisioning",
        },
        "analytics": {"check_for_updates": True},
        "log": {"mode": "console"},
        "grafana_net": {"url": "https://grafana.net"},
    },
    "persistence": {"enabled": False, "size": "10Gi", "accessModes": ["ReadWriteOnce"]},
    "ingress": {"enabled": False, "path": "/", "pathType": "Prefix", "hosts": []},
    "plugins": [],
    "envFromSecret": "",
    "datasources": {},
}


def configuration(values: Values) -> dict[str, str]:
    """The ConfigMap's data: ``grafana.ini`` and each datasources file."""
    data = {INI_FILE: render_ini(values.mapping("grafana.ini"))}
    for name, content in sorted(values.mapping("datasources").items()):
        if not _FILE_NAME.fullmatch(name) or name == INI_FILE:
            raise RenderError(f"{values.where(('datasources', name))}: not a usable file name")
        if not isinstance(content, dict):
            raise RenderError(f"{values.where(('datasources', name))}: expected a mapping")
        data[name] = to_yaml(content)
    return data


def _port(values: Values) -> int:
    port = values.text("grafana.ini", "server", "http_port", default="3000")
    if not port.isdigit():
        raise RenderError(f"{values.where(('grafana.ini', 'server', 'http_port'))}: not a port")
    return int(port)


def _paths(values: Values) -> dict[str, str]:
    """Grafana's folders, from ``grafana.ini`` [paths]; the image's environment would override
    the file, so they are set in the environment too, as the chart does."""
    return {
        name: values.text("grafana.ini", "paths", name, default=default).rstrip("/") or default
        for name, default in IMAGE_PATHS.items()
    }


def _plugin(entry: str) -> str:
    """A chart plugin entry (``id``, ``id version`` or ``url;id``) as Grafana's preinstall list
    takes it (``id``, ``id@version``, ``id@@url``)."""
    if ";" in entry:
        url, plugin = entry.split(";", 1)
        return f"{plugin.strip()}@@{url.strip()}"
    if " " in entry.strip():
        plugin, version = entry.split(None, 1)
        return f"{plugin}@{version.strip()}"
    return entry.strip()


def _env(values: Values, paths: dict[str, str]) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = []
    secret = values.text("admin", "existingSecret")
    if secret:
        for variable, key in (
            ("GF_SECURITY_ADMIN_USER", values.text("admin", "userKey")),
            ("GF_SECURITY_ADMIN_PASSWORD", values.text("admin", "passwordKey")),
        ):
            env.append(
                {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
            )
    else:
        env.append({"name": "GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION", "value": "true"})
    env += [{"name": f"GF_PATHS_{name.upper()}", "value": path} for name, path in paths.items()]
    plugins = values.sequence("plugins")
    if not all(isinstance(plugin, str) for plugin in plugins):
        raise RenderError(f"{values.where(('plugins',))}: expected a list of plugin names")
    if plugins:
        # Installed before Grafana starts serving, as the chart's install step does.
        preinstall = ",".join(_plugin(plugin) for plugin in plugins)
        env.append({"name": "GF_PLUGINS_PREINSTALL_SYNC", "value": preinstall})
    return env


def _env_from(values: Values) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = []
    if name := values.text("envFromSecret"):
        sources.append({"secretRef": {"name": name}})
    for index, entry in enumerate(values.mappings("envFromSecrets")):
        where = ("envFromSecrets", str(index))
        reference: dict[str, Any] = {"name": values.text(*where, "name")}
        if not reference["name"]:
            raise RenderError(f"{values.where(where)}: needs a name")
        if "optional" in entry:
            reference["optional"] = values.flag(*where, "optional", default=False)
        source: dict[str, Any] = {"secretRef": reference}
        if prefix := values.text(*where, "prefix"):
            source["prefix"] = prefix
        sources.append(source)
    return sources


def _ingress(target: Target, values: Values, port: ServicePort) -> dict[str, Any]:
    path = values.text("ingress", "path", default="/")
    path_type = values.text("ingress", "pathType", default="Prefix")
    hosts = values.sequence("ingress", "hosts")
    if not hosts or not all(isinstance(host, str) and host for host in hosts):
        raise RenderError(f"{values.where(('ingress', 'hosts'))}: expected a list of host names")
    backend = {"service": {"name": target.release, "port": {"number": port.port}}}
    spec: dict[str, Any] = {
        "rules": [
            {
                "host": host,
                "http": {"paths": [{"path": path, "pathType": path_type, "backend": backend}]},
            }
            for host in hosts
        ]
    }
    if class_name := values.text("ingress", "ingressClassName"):
        spec["ingressClassName"] = class_name
    if tls := values.mappings("ingress", "tls"):
        spec["tls"] = tls
    ingress: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(target, target.native(), PART),
        "spec": spec,
    }
    if annotations := values.mapping("ingress", "annotations"):
        ingress["metadata"]["annotations"] = {key: str(v) for key, v in annotations.items()}
    return ingress


def render(target: Target, raw: dict[str, Any], app_version: str | None) -> list[dict[str, Any]]:
    values = Values("grafana", over_chart_defaults(CHART_DEFAULTS, raw))
    data = configuration(values)
    paths = _paths(values)
    storage = Storage.read(
        values,
        ("persistence",),
        mount_path=paths["data"],
        enabled=False,
        class_key="storageClassName",
    )
    secret_volumes, secret_volume_mounts = secret_mounts(values, "extraSecretMounts")
    datasource_files = sorted(name for name in data if name != INI_FILE)
    volumes: list[dict[str, Any]] = [
        {
            "name": CONFIG_VOLUME,
            "configMap": {"name": target.native(), "items": [{"key": INI_FILE, "path": INI_FILE}]},
        },
        *secret_volumes,
    ]
    mounts: list[dict[str, Any]] = [
        # One file among the image's own: the checksum rolls the pods when it changes.
        {"name": CONFIG_VOLUME, "mountPath": INI_PATH, "subPath": INI_FILE, "readOnly": True},
        *secret_volume_mounts,
    ]
    if datasource_files:
        items = [{"key": name, "path": name} for name in datasource_files]
        volumes.append(
            {
                "name": DATASOURCES_VOLUME,
                "configMap": {"name": target.native(), "items": items},
            }
        )
        mounts.append(
            {
                "name": DATASOURCES_VOLUME,
                "mountPath": f"{paths['provisioning']}/datasources",
                "readOnly": True,
            }
        )
    container: dict[str, Any] = {
        "name": "grafana",
        "image": image("grafana", app_version, values.text("image", "tag")),
        "ports": [{"name": "grafana", "containerPort": _port(values), "protocol": "TCP"}],
        "env": _env(values, paths),
        "readinessProbe": http_probe("/api/health", "grafana", delay=5),
        # Plugins install before the server answers: give them time.
        "livenessProbe": http_probe("/api/health", "grafana", delay=60, failures=10),
        "volumeMounts": mounts,
    }
    if env_from := _env_from(values):
        container["envFrom"] = env_from
    if resources := values.mapping("resources"):
        container["resources"] = resources
    pod = Pod(
        part=PART,
        replicas=values.integer("replicas", default=1),
        container=container,
        storage=storage,
        user=USER,
        placement=Placement.read(values),
        config_checksum=checksum(data),
        volumes=volumes,
    )
    port = ServicePort("service", 80, "grafana")
    objects = [
        service_account(target, PART, automount=False),
        config_map(target, PART, data),
        service(target, target.release, PART, [port]),
        workload(target, pod),
    ]
    if storage.persistent:
        objects.append(service(target, target.native(), PART, [port], headless=True))
    if values.flag("ingress", "enabled", default=False):
        objects.append(_ingress(target, values, port))
    return objects

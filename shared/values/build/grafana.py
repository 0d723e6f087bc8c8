"""Values for the grafana chart (grafana-community, 12.x)."""

from __future__ import annotations

from typing import Any

from ..names import loki_url, prometheus_url, tempo_url
from ..spec.grafana import Database, GrafanaSpec
from .context import PlatformContext, placement, resources, secret_file, secret_mount


def _database(database: Database) -> tuple[dict[str, Any], dict[str, Any]]:
    """``grafana.ini`` [database] and the secret mount its password is read from: Grafana reads
    ``$__file{path}`` in its configuration, so the password never enters the values."""
    ref = database.password_secret_ref
    section: dict[str, Any] = {
        "type": database.type,
        "host": database.host,
        "name": database.name,
        "user": database.user,
        "password": f"$__file{{{secret_file(ref)}}}",
    }
    if database.ssl_mode:
        section["ssl_mode"] = database.ssl_mode
    return section, secret_mount(ref.name)


def generated_datasources(context: PlatformContext) -> list[dict[str, Any]]:
    """Datasources for the platform's own Prometheus, Loki and Tempo, linked to each other."""
    name, namespace = context.name, context.namespace
    sources: list[dict[str, Any]] = []
    if "prometheus" in context.enabled:
        sources.append(
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": "prometheus",
                "url": prometheus_url(name, namespace),
                "access": "proxy",
                "isDefault": True,
            }
        )
    if "loki" in context.enabled:
        sources.append(
            {
                "name": "Loki",
                "type": "loki",
                "uid": "loki",
                "url": loki_url(name, namespace, gateway=context.loki_gateway),
                "access": "proxy",
            }
        )
    if "tempo" in context.enabled:
        json_data: dict[str, Any] = {}
        if "loki" in context.enabled:
            json_data["tracesToLogsV2"] = {"datasourceUid": "loki"}
        if "prometheus" in context.enabled:
            json_data["serviceMap"] = {"datasourceUid": "prometheus"}
        sources.append(
            {
                "name": "Tempo",
                "type": "tempo",
                "uid": "tempo",
                "url": tempo_url(name, namespace),
                "access": "proxy",
                "jsonData": json_data,
            }
        )
    return sources


def _datasources(spec: GrafanaSpec, context: PlatformContext) -> list[dict[str, Any]]:
    sources = generated_datasources(context) if spec.datasources.generate else []
    extra = [
        s.model_dump(by_alias=True, exclude_none=True, mode="json") for s in spec.datasources.extra
    ]
    if any(s.get("isDefault") for s in extra):
        for source in sources:
            source["isDefault"] = False
    return sources + extra


def derive(spec: GrafanaSpec, context: PlatformContext) -> dict[str, Any]:
    values: dict[str, Any] = {**placement(spec, context)}
    ini: dict[str, Any] = {"log": {"level": context.global_.log_level}}
    if resources(spec):
        values["resources"] = resources(spec)
    if spec.replicas is not None:
        values["replicas"] = spec.replicas
    if spec.admin_credentials:
        values["admin"] = spec.admin_credentials.model_dump(by_alias=True, mode="json")
    if sources := _datasources(spec, context):
        values["datasources"] = {"datasources.yaml": {"apiVersion": 1, "datasources": sources}}
    sidecar = spec.dashboards.sidecar
    dashboards: dict[str, Any] = {"enabled": sidecar.enabled}
    if sidecar.enabled:
        dashboards.update(label=sidecar.label, labelValue=sidecar.label_value)
        if sidecar.search_namespace:
            dashboards["searchNamespace"] = sidecar.search_namespace
    values["sidecar"] = {"dashboards": dashboards}
    values["rbac"] = _rbac(sidecar.search_namespace if sidecar.enabled else None, context)
    if spec.ingress and spec.ingress.enabled:
        ingress = spec.ingress
        values["ingress"] = {
            "enabled": True,
            "hosts": [ingress.host],
            "annotations": dict(ingress.annotations),
        }
        if ingress.class_name:
            values["ingress"]["ingressClassName"] = ingress.class_name
        if ingress.tls_secret_name:
            values["ingress"]["tls"] = [
                {"secretName": ingress.tls_secret_name, "hosts": [ingress.host]}
            ]
        scheme = "https" if ingress.tls_secret_name else "http"
        ini["server"] = {"root_url": f"{scheme}://{ingress.host}/", "domain": ingress.host}
    if spec.database:
        ini["database"], mount = _database(spec.database)
        values["extraSecretMounts"] = [mount]
    persistence = spec.persistence
    values["persistence"] = {"enabled": persistence.enabled}
    if persistence.size:
        values["persistence"]["size"] = persistence.size
    if persistence.storage_class_name:
        values["persistence"]["storageClassName"] = persistence.storage_class_name
    if spec.plugins:
        values["plugins"] = list(spec.plugins)
    if spec.env_from_secret:
        values["envFromSecret"] = spec.env_from_secret
    values["testFramework"] = {"enabled": spec.tests.enabled}
    values["grafana.ini"] = ini
    return values


def _rbac(search_namespace: str | None, context: PlatformContext) -> dict[str, Any]:
    """Namespaced RBAC (the chart's default is a ClusterRole that reads every Secret of the
    cluster): a Role in the platform's namespace and in each namespace the dashboards sidecar
    watches; cluster-wide only when the spec asks the sidecar to watch ALL."""
    if search_namespace == "ALL":
        return {"namespaced": False}
    others = [n for n in (search_namespace or "").split(",") if n and n != context.namespace]
    return {"namespaced": True, "namespaces": list(dict.fromkeys(others))}

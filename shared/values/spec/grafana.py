"""Grafana: admin credentials from an existing Secret, generated and extra datasources, the
dashboards sidecar, ingress, persistence, a shared database and plugins."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from ..types import DataKey, HostPort, ObjectName, host_port, http_url
from .base import SpecModel
from .common import ComponentSpec, SecretKeyRef, Volume

# Grafana's SQL datasources connect to host:port; every other type takes an http(s) URL.
SQL_DATASOURCE_TYPES = frozenset({"postgres", "grafana-postgresql-datasource", "mysql", "mssql"})


class AdminCredentials(SpecModel):
    existing_secret: ObjectName
    user_key: DataKey = "admin-user"
    password_key: DataKey = "admin-password"  # noqa: S105 - the name of a key, not a password


class Datasource(SpecModel):
    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    url: str | None = Field(
        None, description="an http(s) URL; host:port for postgres, mysql and mssql"
    )
    user: str | None = None
    uid: str | None = None
    access: Literal["proxy", "direct"] = "proxy"
    is_default: bool = False
    json_data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url_for_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("type") in SQL_DATASOURCE_TYPES:
            return host_port(value)
        return http_url(value)


class Datasources(SpecModel):
    generate: bool = Field(
        True, description="datasources for the platform's own Prometheus, Loki and Tempo"
    )
    extra: list[Datasource] = Field(default_factory=list)


class DashboardsSidecar(SpecModel):
    enabled: bool = True
    label: str = Field(
        "grafana_dashboard",
        pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        description="the label (key) of ConfigMaps holding dashboards",
    )
    label_value: str = Field("1", pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
    search_namespace: str | None = Field(
        None,
        pattern=r"^(ALL|[a-z0-9]([-a-z0-9]*[a-z0-9])?(,[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$",
        description="namespaces to watch, comma-separated, or ALL (default: Grafana's own)",
    )


class Dashboards(SpecModel):
    sidecar: DashboardsSidecar = Field(default_factory=lambda: DashboardsSidecar(enabled=False))


class Ingress(SpecModel):
    enabled: bool = True
    class_name: str | None = None
    host: str = Field(
        pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        max_length=253,
    )
    tls_secret_name: ObjectName | None = None
    annotations: dict[str, str] = Field(default_factory=dict)


class Database(SpecModel):
    """The database Grafana keeps its state in instead of SQLite on its own volume: needed by
    more than one replica."""

    type: Literal["postgres", "mysql"]
    host: HostPort
    name: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9_$-]+$")
    user: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9_.@-]+$")
    password_secret_ref: SecretKeyRef
    ssl_mode: Literal["disable", "require", "verify-full"] | None = Field(
        None, description="postgres only"
    )


class GrafanaSpec(ComponentSpec):
    admin_credentials: AdminCredentials | None = None
    datasources: Datasources = Field(default_factory=Datasources)
    dashboards: Dashboards = Field(default_factory=Dashboards)
    ingress: Ingress | None = None
    persistence: Volume = Field(default_factory=lambda: Volume(enabled=False))
    database: Database | None = None
    plugins: list[str] = Field(default_factory=list)
    env_from_secret: ObjectName | None = Field(
        None, description="Secret whose keys become environment variables (for $__env{...})"
    )

"""Grafana: admin credentials from an existing Secret, generated and extra datasources, the
dashboards sidecar, ingress, persistence and plugins."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..types import DataKey, HttpURL, ObjectName
from .base import SpecModel
from .common import ComponentSpec, Volume


class AdminCredentials(SpecModel):
    existing_secret: ObjectName
    user_key: DataKey = "admin-user"
    password_key: DataKey = "admin-password"  # noqa: S105 - the name of a key, not a password


class Datasource(SpecModel):
    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    url: HttpURL | None = None
    uid: str | None = None
    access: Literal["proxy", "direct"] = "proxy"
    is_default: bool = False
    json_data: dict[str, Any] = Field(default_factory=dict)


class Datasources(SpecModel):
    generate: bool = Field(
        True, description="datasources for the platform's own Prometheus, Loki and Tempo"
    )
    extra: list[Datasource] = Field(default_factory=list)


class DashboardsSidecar(SpecModel):
    enabled: bool = True
    label: str = "grafana_dashboard"
    label_value: str = "1"
    search_namespace: str | None = Field(
        None, description="namespace to watch, ALL for every namespace (default: Grafana's own)"
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


class GrafanaSpec(ComponentSpec):
    admin_credentials: AdminCredentials | None = None
    datasources: Datasources = Field(default_factory=Datasources)
    dashboards: Dashboards = Field(default_factory=Dashboards)
    ingress: Ingress | None = None
    persistence: Volume = Field(default_factory=lambda: Volume(enabled=False))
    plugins: list[str] = Field(default_factory=list)
    env_from_secret: ObjectName | None = Field(
        None, description="Secret whose keys become environment variables (for $__env{...})"
    )

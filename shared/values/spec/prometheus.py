"""Prometheus: the server, its remote writes, scrape configs and the exporters bundled with the
chart."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..types import ByteSize, Duration, HttpURL, MetricLabels
from .base import SpecModel
from .common import ComponentSpec, SecretKeyRef, Volume


class Switch(SpecModel):
    enabled: bool


class BasicAuth(SpecModel):
    username: str = Field(min_length=1)
    password_secret_ref: SecretKeyRef


class RemoteWrite(SpecModel):
    url: HttpURL
    name: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    bearer_token_secret_ref: SecretKeyRef | None = None
    remote_timeout: Duration | None = None
    queue_config: dict[str, Any] | None = None
    write_relabel_configs: list[dict[str, Any]] | None = None


class PrometheusSpec(ComponentSpec):
    storage: Volume | None = None
    retention_size: ByteSize | None = None
    scrape_interval: Duration | None = None
    external_labels: MetricLabels = Field(default_factory=dict)
    remote_write: list[RemoteWrite] = Field(default_factory=list)
    additional_scrape_configs: list[dict[str, Any]] = Field(default_factory=list)
    alertmanager: Switch = Field(default_factory=lambda: Switch(enabled=True))
    node_exporter: Switch = Field(default_factory=lambda: Switch(enabled=True))
    kube_state_metrics: Switch = Field(default_factory=lambda: Switch(enabled=True))
    pushgateway: Switch = Field(default_factory=lambda: Switch(enabled=False))

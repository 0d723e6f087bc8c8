"""Prometheus: the server, its remote writes, scrape configs and the exporters bundled with the
chart.

Fields that end up in ``prometheus.yml`` are typed here with Prometheus's own names as their
attribute names (camelCase in a spec, as everywhere): dumped by attribute name, a model is the
configuration block Prometheus reads, and an unknown key is refused by its field path instead of
making the server refuse its configuration.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from ..types import ByteSize, DNSLabel, Duration, HttpURL, MetricLabelName, MetricLabels
from .base import SpecModel
from .common import ComponentSpec, SecretKeyRef, Volume

RelabelAction = Literal[
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
]


class Switch(SpecModel):
    enabled: bool


class BasicAuth(SpecModel):
    username: str = Field(min_length=1)
    password_secret_ref: SecretKeyRef


class QueueConfig(SpecModel):
    """Prometheus's ``queue_config`` of a remote write; unset fields keep Prometheus's
    defaults."""

    capacity: int | None = Field(None, ge=1)
    max_shards: int | None = Field(None, ge=1)
    min_shards: int | None = Field(None, ge=1)
    max_samples_per_send: int | None = Field(None, ge=1)
    batch_send_deadline: Duration | None = None
    min_backoff: Duration | None = None
    max_backoff: Duration | None = None
    retry_on_http_429: bool | None = Field(None, alias="retryOnHttp429")
    sample_age_limit: Duration | None = None


class RelabelConfig(SpecModel):
    """One step of Prometheus's ``relabel_config``; unset fields keep Prometheus's defaults
    (action replace, separator ';', regex '(.*)', replacement '$1')."""

    source_labels: list[str] | None = None
    separator: str | None = None
    regex: str | None = None
    target_label: str | None = None
    replacement: str | None = None
    action: RelabelAction | None = None
    modulus: int | None = Field(None, ge=1)


class RemoteWrite(SpecModel):
    url: HttpURL
    name: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    bearer_token_secret_ref: SecretKeyRef | None = None
    remote_timeout: Duration | None = None
    queue_config: QueueConfig | None = None
    write_relabel_configs: list[RelabelConfig] | None = None


class Discovery(SpecModel):
    """Where the server's Kubernetes service discovery looks, and so what its RBAC may read."""

    cluster_wide: bool = Field(
        False,
        description="discover in every namespace and scrape the API servers, nodes and "
        "cAdvisor: the server gets a ClusterRole reading them cluster-wide",
    )
    namespaces: list[DNSLabel] = Field(
        default_factory=list,
        description="namespaces to discover in besides the platform's own; the server gets a "
        "Role and RoleBinding in each",
    )

    @field_validator("namespaces")
    @classmethod
    def _not_with_cluster_wide(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if value and info.data.get("cluster_wide"):
            raise ValueError("names namespaces while clusterWide is true; set one or the other")
        return list(dict.fromkeys(value))


class PrometheusSpec(ComponentSpec):
    storage: Volume | None = None
    retention_size: ByteSize | None = None
    scrape_interval: Duration | None = None
    external_labels: MetricLabels = Field(default_factory=dict)
    replica_label: MetricLabelName = Field(
        "replica",
        description="with more than one replica, the external label that holds each server's "
        "pod name, so that a remote-write receiver can tell the replicas apart and deduplicate",
    )
    remote_write: list[RemoteWrite] = Field(default_factory=list)
    discovery: Discovery = Field(
        default_factory=Discovery,
        description="Kubernetes service discovery: the platform's namespace unless it names more",
    )
    additional_scrape_configs: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Prometheus scrape_config documents, in Prometheus's own field names",
    )
    alertmanager: Switch = Field(default_factory=lambda: Switch(enabled=True))
    node_exporter: Switch = Field(default_factory=lambda: Switch(enabled=True))
    kube_state_metrics: Switch = Field(default_factory=lambda: Switch(enabled=True))
    pushgateway: Switch = Field(default_factory=lambda: Switch(enabled=False))

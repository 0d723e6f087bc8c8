"""Tempo: receivers, the metrics generator (writing to the platform's Prometheus by default),
per-tenant limits, trace storage and retention.

Limits and the generator's processors are Tempo overrides: typed here with Tempo's own names as
attribute names, they are rendered into ``overrides.defaults`` of Tempo's configuration, which
applies them to every tenant.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..types import BucketName, Endpoint, GoDuration, HttpURL, ObjectName, Quantity, Region
from .base import SpecModel
from .common import ComponentSpec, SecretRef

Processor = Literal["service-graphs", "span-metrics", "local-blocks"]
DEFAULT_PROCESSORS: tuple[Processor, ...] = ("service-graphs", "span-metrics")


class Receivers(SpecModel):
    otlp_grpc: bool = True
    otlp_http: bool = True
    jaeger: bool = True
    zipkin: bool = False


class MetricsGenerator(SpecModel):
    enabled: bool = True
    remote_write_url: HttpURL | None = Field(
        None, description="default: the remote-write endpoint of the platform's own Prometheus"
    )
    processors: list[Processor] = Field(
        default_factory=lambda: list(DEFAULT_PROCESSORS),
        description="what the generator derives from spans: service-graphs feed Grafana's "
        "service map, span-metrics the RED metrics; without one it generates nothing",
    )


class IngestionLimits(SpecModel):
    rate_strategy: Literal["local", "global"] | None = None
    rate_limit_bytes: int | None = Field(None, ge=0)
    burst_size_bytes: int | None = Field(None, ge=0)
    max_traces_per_user: int | None = Field(None, ge=0)
    max_global_traces_per_user: int | None = Field(None, ge=0)


class ReadLimits(SpecModel):
    max_bytes_per_tag_values_query: int | None = Field(None, ge=0)
    max_search_duration: GoDuration | None = None


class GlobalLimits(SpecModel):
    max_bytes_per_trace: int | None = Field(None, ge=0)


class TempoLimits(SpecModel):
    """Tempo's per-tenant overrides, applied to every tenant."""

    ingestion: IngestionLimits | None = None
    read: ReadLimits | None = None
    global_: GlobalLimits | None = Field(None, alias="global")


class TempoStorage(SpecModel):
    backend: Literal["local", "s3", "gcs", "azure"] = "local"
    bucket: BucketName | None = None
    endpoint: Endpoint | None = None
    region: Region | None = None
    insecure: bool = False
    credentials_secret_ref: SecretRef | None = Field(
        None, description="Secret whose keys become environment variables of the Tempo pod"
    )
    size: Quantity | None = None
    storage_class_name: ObjectName | None = None


class TempoSpec(ComponentSpec):
    receivers: Receivers = Field(default_factory=Receivers)
    metrics_generator: MetricsGenerator = Field(
        default_factory=lambda: MetricsGenerator(enabled=False)
    )
    limits: TempoLimits | None = None
    storage: TempoStorage = Field(default_factory=TempoStorage)

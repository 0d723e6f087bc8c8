"""Tempo: receivers, the metrics generator (writing to the platform's Prometheus by default),
trace storage and retention."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..types import HttpURL, ObjectName, Quantity
from .base import SpecModel
from .common import ComponentSpec, SecretRef


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


class TempoStorage(SpecModel):
    backend: Literal["local", "s3", "gcs", "azure"] = "local"
    bucket: str | None = None
    endpoint: str | None = None
    region: str | None = None
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
    storage: TempoStorage = Field(default_factory=TempoStorage)

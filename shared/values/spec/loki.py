"""Loki: deployment mode, object storage and its credentials, retention, limits and schema.

Limits are typed with Loki's own ``limits_config`` names as attribute names: dumped by attribute
name they are the block Loki reads, and an unknown key is refused by its field path.
"""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import Field

from ..types import BucketName, Duration, Endpoint, LokiByteSize, ObjectName, Quantity, Region
from .base import SpecModel
from .common import ComponentSpec, SecretRef

DeploymentMode = Literal["Monolithic", "SingleBinary", "SimpleScalable", "Distributed"]


class BucketNames(SpecModel):
    chunks: BucketName
    ruler: BucketName | None = None
    admin: BucketName | None = None


class S3Options(SpecModel):
    endpoint: Endpoint | None = None
    region: Region | None = None
    insecure: bool = False
    force_path_style: bool = False


class AzureOptions(SpecModel):
    account_name: str | None = Field(None, pattern=r"^[a-z0-9]{3,24}$")
    use_managed_identity: bool = False


class LokiStorage(SpecModel):
    type: Literal["filesystem", "s3", "gcs", "azure"] = "filesystem"
    bucket_names: BucketNames | None = None
    s3: S3Options | None = None
    azure: AzureOptions | None = None
    credentials_secret_ref: SecretRef | None = Field(
        None,
        description="Secret whose keys become environment variables of every Loki pod "
        "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_KEY, ...)",
    )
    size: Quantity | None = None
    storage_class_name: ObjectName | None = None


class SchemaPeriod(SpecModel):
    from_: datetime.date = Field(alias="from")
    store: Literal["tsdb", "boltdb-shipper"] = "tsdb"
    schema_version: Literal["v13", "v12", "v11"] = Field("v13", alias="schema")
    index_prefix: str = Field("index_", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    index_period: Duration = "24h"


class LokiLimits(SpecModel):
    """Loki's ``limits_config`` (for every tenant); unset fields keep Loki's defaults."""

    ingestion_rate_mb: float | None = Field(None, gt=0)
    ingestion_burst_size_mb: float | None = Field(None, gt=0)
    per_stream_rate_limit: LokiByteSize | None = None
    per_stream_rate_limit_burst: LokiByteSize | None = None
    max_streams_per_user: int | None = Field(None, ge=0)
    max_global_streams_per_user: int | None = Field(None, ge=0)
    max_line_size: LokiByteSize | None = None
    max_label_names_per_series: int | None = Field(None, ge=1)
    max_query_series: int | None = Field(None, ge=1)
    max_query_lookback: Duration | None = None
    max_query_length: Duration | None = None
    max_entries_limit_per_query: int | None = Field(None, ge=1)
    query_timeout: Duration | None = None
    reject_old_samples: bool | None = None
    reject_old_samples_max_age: Duration | None = None
    allow_structured_metadata: bool | None = None
    volume_enabled: bool | None = None


class LokiSpec(ComponentSpec):
    deployment_mode: DeploymentMode = "Monolithic"
    storage: LokiStorage = Field(default_factory=LokiStorage)
    limits: LokiLimits | None = None
    schema_config: list[SchemaPeriod] = Field(
        default_factory=lambda: [SchemaPeriod.model_validate({"from": "2024-04-01"})],
        alias="schema",
    )

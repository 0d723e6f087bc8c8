"""Loki: deployment mode, object storage and its credentials, retention and schema."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import Field

from ..types import Duration, ObjectName, Quantity
from .base import SpecModel
from .common import ComponentSpec, SecretRef

DeploymentMode = Literal["Monolithic", "SingleBinary", "SimpleScalable", "Distributed"]


class BucketNames(SpecModel):
    chunks: str = Field(min_length=1)
    ruler: str | None = None
    admin: str | None = None


class S3Options(SpecModel):
    endpoint: str | None = None
    region: str | None = None
    insecure: bool = False
    force_path_style: bool = False


class AzureOptions(SpecModel):
    account_name: str | None = None
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
    index_prefix: str = "index_"
    index_period: Duration = "24h"


class LokiSpec(ComponentSpec):
    deployment_mode: DeploymentMode = "Monolithic"
    storage: LokiStorage = Field(default_factory=LokiStorage)
    schema_config: list[SchemaPeriod] = Field(
        default_factory=lambda: [SchemaPeriod.model_validate({"from": "2024-04-01"})],
        alias="schema",
    )

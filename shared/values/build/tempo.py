"""Values for the tempo chart (grafana-community, 2.x; single binary)."""

from __future__ import annotations

from typing import Any

from ..names import prometheus_remote_write_url
from ..spec.tempo import TempoSpec
from .context import PlatformContext, own_names, placement, resources


def _trace_storage(spec: TempoSpec) -> dict[str, Any]:
    storage = spec.storage
    trace: dict[str, Any] = {"backend": storage.backend}
    if storage.backend == "s3":
        s3: dict[str, Any] = {"bucket": storage.bucket, "insecure": storage.insecure}
        if storage.endpoint:
            s3["endpoint"] = storage.endpoint
        if storage.region:
            s3["region"] = storage.region
        trace["s3"] = s3
    elif storage.backend == "gcs":
        trace["gcs"] = {"bucket_name": storage.bucket}
    elif storage.backend == "azure":
        trace["azure"] = {"container_name": storage.bucket}
    return trace


def _overrides(spec: TempoSpec) -> dict[str, Any]:
    """Tempo's overrides for every tenant (``overrides.defaults``): the limits, and the metrics
    generator's processors, which Tempo turns on per tenant here and nowhere else."""
    defaults: dict[str, Any] = own_names(spec.limits) if spec.limits else {}
    generator = spec.metrics_generator
    if generator.enabled:
        defaults["metrics_generator"] = {"processors": list(generator.processors)}
    return {"defaults": defaults} if defaults else {}


def derive(spec: TempoSpec, context: PlatformContext) -> dict[str, Any]:
    tempo: dict[str, Any] = {
        "storage": {"trace": _trace_storage(spec)},
        "server": {"log_level": context.global_.log_level},
    }
    if spec.retention:
        tempo["retention"] = spec.retention
    if resources(spec):
        tempo["resources"] = resources(spec)
    if spec.receivers.zipkin:
        tempo["receivers"] = {"zipkin": {"endpoint": "0.0.0.0:9411"}}
    generator = spec.metrics_generator
    if generator.enabled:
        url = generator.remote_write_url or prometheus_remote_write_url(
            context.name, context.namespace
        )
        tempo["metricsGenerator"] = {"enabled": True, "remoteWriteUrl": url}
    else:
        tempo["metricsGenerator"] = {"enabled": False}
    if overrides := _overrides(spec):
        tempo["overrides"] = overrides
    if spec.storage.credentials_secret_ref:
        tempo["extraEnvFrom"] = [{"secretRef": {"name": spec.storage.credentials_secret_ref.name}}]
    values: dict[str, Any] = {"tempo": tempo, **placement(spec, context)}
    if spec.replicas is not None:
        values["replicas"] = spec.replicas
    if spec.storage.size or spec.storage.storage_class_name:
        values["persistence"] = {"enabled": True}
        if spec.storage.size:
            values["persistence"]["size"] = spec.storage.size
        if spec.storage.storage_class_name:
            values["persistence"]["storageClassName"] = spec.storage.storage_class_name
    return values

"""Rules that span fields of a parsed spec: what the types alone cannot say.

Each rule returns problems (the spec is refused) or warnings (it is accepted, with a note).
Component rules need only their component, so they also run when another part of the spec
failed to parse: a person sees every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .names import RESERVED_SCRAPE_JOBS, release_name_problem
from .problems import Problem
from .quantity import quantity_value
from .spec import GrafanaSpec, LokiSpec, ObservabilityPlatform, PrometheusSpec, TempoSpec
from .spec.common import ComponentSpec
from .spec.prometheus import RelabelConfig


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def warning(self, path: str, message: str) -> None:
        self.warnings.append(Problem(path, message))


# Relabel actions that write a label, and so need target_label (Prometheus refuses them without).
_WRITING_ACTIONS = {"replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"}
# Angular plugins: Grafana 12 and later no longer load them.
ANGULAR_PLUGINS = frozenset(
    {
        "grafana-piechart-panel",
        "grafana-worldmap-panel",
        "grafana-simple-json-datasource",
        "natel-discrete-panel",
        "natel-plotly-panel",
        "michaeldmoore-multistat-panel",
    }
)


def check_relabel(configs: list[RelabelConfig], findings: Findings, base: str) -> None:
    for index, config in enumerate(configs):
        path = f"{base}[{index}]"
        action = config.action or "replace"
        if action in _WRITING_ACTIONS and not config.target_label:
            findings.problem(f"{path}.targetLabel", f"required with action {action}")
        if action == "hashmod" and not config.modulus:
            findings.problem(f"{path}.modulus", "required with action hashmod")


def _check_scrape_configs(spec: PrometheusSpec, findings: Findings, base: str) -> None:
    jobs: set[str] = set()
    for index, scrape in enumerate(spec.additional_scrape_configs):
        path = f"{base}.additionalScrapeConfigs[{index}]"
        job = scrape.get("job_name")
        if not isinstance(job, str) or not job:
            findings.problem(f"{path}.job_name", "required: every scrape config names its job")
        elif job in RESERVED_SCRAPE_JOBS:
            findings.problem(
                f"{path}.job_name",
                f"{job} is one of the prometheus chart's own jobs, and Prometheus refuses two "
                f"jobs of one name; choose another (taken: {', '.join(RESERVED_SCRAPE_JOBS)})",
            )
        elif job in jobs:
            findings.problem(f"{path}.job_name", "job names must be unique")
        else:
            jobs.add(job)


def _check_extra_manifests(spec: PrometheusSpec, findings: Findings, base: str) -> None:
    """A ``config`` list replaces gunj's whole (Helm merges lists by replacing them): its
    ``extraManifests`` would drop the server's Role and RoleBinding, and discovery with them."""
    if spec.discovery.cluster_wide or "extraManifests" not in (spec.config or {}):
        return
    findings.warning(
        f"{base}.config.extraManifests",
        "replaces the extraManifests gunj writes, which hold the server's Role and RoleBinding "
        "for discovery; without them it discovers nothing. List them too, or set "
        "discovery.clusterWide",
    )


def _check_high_availability(
    spec: PrometheusSpec, findings: Findings, base: str, global_labels: dict[str, str]
) -> None:
    if (spec.replicas or 1) <= 1:
        return
    labels = {**global_labels, **spec.external_labels}
    if spec.replica_label in labels:
        findings.problem(
            f"{base}.externalLabels",
            f"{spec.replica_label} is the replica label: with more than one replica gunj sets it "
            "to each server's pod name (choose another replicaLabel to keep this one)",
        )
    if spec.remote_write and not labels:
        findings.problem(
            f"{base}.externalLabels",
            "replicas remote-write the same series: a receiver deduplicates them on labels the "
            "replicas share (e.g. cluster) and the replica label; set externalLabels",
        )


def check_prometheus(
    spec: PrometheusSpec, findings: Findings, base: str, global_labels: dict[str, str]
) -> None:
    names: set[str] = set()
    for index, remote in enumerate(spec.remote_write):
        path = f"{base}.remoteWrite[{index}]"
        if remote.basic_auth and remote.bearer_token_secret_ref:
            findings.problem(path, "give basicAuth or bearerTokenSecretRef, not both")
        if remote.name:
            if remote.name in names:
                findings.problem(f"{path}.name", "remote write names must be unique")
            names.add(remote.name)
        queue = remote.queue_config
        if queue and queue.min_shards and queue.max_shards and queue.min_shards > queue.max_shards:
            findings.problem(f"{path}.queueConfig.minShards", "must not exceed maxShards")
        check_relabel(remote.write_relabel_configs or [], findings, f"{path}.writeRelabelConfigs")
    _check_scrape_configs(spec, findings, base)
    _check_high_availability(spec, findings, base, global_labels)
    _check_extra_manifests(spec, findings, base)
    if spec.storage and not spec.storage.enabled and spec.storage.size:
        findings.warning(f"{base}.storage.size", "has no effect while storage.enabled is false")


def _configured_database(spec: GrafanaSpec) -> bool:
    """A database other than SQLite, from the spec or from a grafana.ini override."""
    if spec.database:
        return True
    ini = (spec.config or {}).get("grafana.ini")
    database = ini.get("database") if isinstance(ini, dict) else None
    kind = database.get("type") if isinstance(database, dict) else None
    return kind in {"postgres", "mysql"}


def check_grafana(spec: GrafanaSpec, findings: Findings, base: str, others: set[str]) -> None:
    generated = {"prometheus": "Prometheus", "loki": "Loki", "tempo": "Tempo"}
    taken = {generated[c] for c in others if c in generated} if spec.datasources.generate else set()
    defaults = 0
    for index, source in enumerate(spec.datasources.extra):
        path = f"{base}.datasources.extra[{index}]"
        if source.name in taken:
            findings.problem(
                f"{path}.name",
                "a datasource of this name exists already (generated or listed before)",
            )
        taken.add(source.name)
        defaults += source.is_default
    if defaults > 1:
        findings.problem(f"{base}.datasources.extra", "at most one datasource can be the default")
    if spec.admin_credentials is None:
        findings.warning(
            f"{base}.adminCredentials",
            "not set: with Helm the chart generates a random admin password into a Secret of "
            "its own; in native mode Grafana starts with no admin user",
        )
    if spec.retention:
        findings.warning(f"{base}.retention", "Grafana keeps no time series; ignored")
    if not spec.persistence.enabled and spec.persistence.size:
        findings.warning(
            f"{base}.persistence.size", "has no effect while persistence.enabled is false"
        )
    if (spec.replicas or 1) > 1:
        if not _configured_database(spec):
            findings.problem(
                f"{base}.database",
                "required with more than one replica: replicas cannot share Grafana's SQLite "
                "file; give a postgres or mysql database",
            )
        if spec.persistence.enabled:
            findings.problem(
                f"{base}.persistence.enabled",
                "replicas cannot share one ReadWriteOnce volume; with a database Grafana needs "
                "no volume: set it to false",
            )
    for index, plugin in enumerate(spec.plugins):
        if plugin.split(" ")[0].split("@")[0] in ANGULAR_PLUGINS:
            findings.problem(
                f"{base}.plugins[{index}]",
                "an Angular plugin: Grafana 12 and later do not load it; use a React "
                "replacement (e.g. the built-in pie chart and geomap panels)",
            )
    if spec.database and spec.database.ssl_mode and spec.database.type != "postgres":
        findings.warning(f"{base}.database.sslMode", "applies to postgres only; ignored")


def check_loki(spec: LokiSpec, findings: Findings, base: str) -> None:
    storage, mode = spec.storage, spec.deployment_mode
    if storage.type != "filesystem" and not storage.bucket_names:
        findings.problem(
            f"{base}.storage.bucketNames",
            f"required with storage.type {storage.type} (at least chunks)",
        )
    if storage.type == "filesystem":
        if mode not in {"Monolithic", "SingleBinary"}:
            findings.problem(
                f"{base}.deploymentMode",
                f"{mode} needs object storage: set storage.type to s3, gcs or azure",
            )
        elif (spec.replicas or 1) > 1:
            findings.problem(
                f"{base}.replicas",
                "more than one Loki replica needs object "
                "storage: set storage.type to s3, gcs or azure",
            )
        if storage.credentials_secret_ref:
            findings.warning(
                f"{base}.storage.credentialsSecretRef", "unused with filesystem storage"
            )
    if storage.s3 and storage.type != "s3":
        findings.warning(f"{base}.storage.s3", f"ignored with storage.type {storage.type}")
    if mode == "SimpleScalable":
        findings.warning(
            f"{base}.deploymentMode",
            "SimpleScalable is deprecated and removed in Loki 4; use Monolithic or Distributed",
        )
    if mode == "SingleBinary":
        findings.warning(
            f"{base}.deploymentMode",
            "SingleBinary is a deprecated name of Monolithic; it is treated as Monolithic",
        )
    starts = [period.from_ for period in spec.schema_config]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        findings.problem(f"{base}.schema", "periods must start on distinct dates, in order")


def check_tempo(spec: TempoSpec, findings: Findings, base: str, others: set[str]) -> None:
    receivers = spec.receivers
    for name, enabled in (
        ("otlpGrpc", receivers.otlp_grpc),
        ("otlpHttp", receivers.otlp_http),
        ("jaeger", receivers.jaeger),
    ):
        if not enabled:
            findings.problem(
                f"{base}.receivers.{name}",
                "the Tempo chart always runs this "
                "receiver (its Service ports read it); it cannot be turned off",
            )
    generator = spec.metrics_generator
    if generator.enabled and not generator.processors:
        findings.problem(
            f"{base}.metricsGenerator.processors",
            "the generator derives nothing without a processor: give service-graphs, "
            "span-metrics or local-blocks",
        )
    if spec.retention and any(unit in spec.retention for unit in "dwy"):
        findings.problem(
            f"{base}.retention", "Tempo reads Go durations: use h, m and s, e.g. 336h for 14 days"
        )
    if generator.enabled and not generator.remote_write_url and "prometheus" not in others:
        findings.problem(
            f"{base}.metricsGenerator.remoteWriteUrl",
            "required when the platform has no Prometheus of its own",
        )
    if spec.storage.backend != "local" and not spec.storage.bucket:
        findings.problem(
            f"{base}.storage.bucket", f"required with storage.backend {spec.storage.backend}"
        )
    if (spec.replicas or 1) > 1 and spec.storage.backend == "local":
        findings.problem(
            f"{base}.replicas",
            "more than one Tempo replica needs object "
            "storage: set storage.backend to s3, gcs or azure",
        )


# Memory and storage below this are a unit left out (512 is 512 bytes), not a wish.
_FEW_BYTES = 1024 * 1024


def _byte_quantities(spec: ComponentSpec, base: str) -> Iterator[tuple[str, str | None]]:
    """Every memory and storage quantity of a component, with its path."""
    for kind in ("requests", "limits"):
        listed = getattr(spec.resources, kind, None) if spec.resources else None
        if listed is not None:
            yield f"{base}.resources.{kind}.memory", listed.memory
            yield f"{base}.resources.{kind}.ephemeral-storage", listed.ephemeral_storage
    for field_name, alias in (("storage", "storage"), ("persistence", "persistence")):
        volume = getattr(spec, field_name, None)
        if volume is not None and hasattr(volume, "size"):
            yield f"{base}.{alias}.size", volume.size


def check_byte_quantities(spec: ComponentSpec, findings: Findings, base: str) -> None:
    for path, quantity in _byte_quantities(spec, base):
        value = quantity_value(quantity) if quantity else None
        if value is not None and 0 < value < _FEW_BYTES:
            findings.warning(
                path,
                "less than 1Mi: a quantity without a unit counts bytes; add one, e.g. 512Mi "
                "or 50Gi",
            )


def check_component(
    name: str,
    spec: ComponentSpec,
    findings: Findings,
    others: set[str],
    platform_name: str | None,
    *,
    global_labels: dict[str, str] | None = None,
) -> None:
    base = f"spec.{name}"
    if not spec.enabled:
        return
    if platform_name and (problem := release_name_problem(platform_name, name)):
        findings.problem("metadata.name", problem)
    check_byte_quantities(spec, findings, base)
    if isinstance(spec, PrometheusSpec):
        check_prometheus(spec, findings, base, global_labels or {})
    elif isinstance(spec, GrafanaSpec):
        check_grafana(spec, findings, base, others)
    elif isinstance(spec, LokiSpec):
        check_loki(spec, findings, base)
    elif isinstance(spec, TempoSpec):
        check_tempo(spec, findings, base, others)


def check_platform(platform: ObservabilityPlatform) -> Findings:
    findings = Findings()
    enabled = set(platform.spec.enabled())
    if not enabled:
        findings.warning(
            "spec",
            "no component is enabled: everything gunj installed for this "
            "platform will be uninstalled",
        )
    for name in ("prometheus", "grafana", "loki", "tempo"):
        spec = platform.spec.component(name)
        if spec is not None:
            check_component(
                name,
                spec,
                findings,
                enabled - {name},
                platform.metadata.name,
                global_labels=platform.spec.global_.external_labels,
            )
    return findings

"""Size limits: of a platform document, and of the objects its values would make.

A platform document travels in Pub/Sub messages (at most 10 MB) and is stored by the API server
(objects of at most about 1.5 MiB, etcd's request limit). gunj refuses a document over
:data:`SPEC_LIMIT`, well under both, so that it always fits with room for its status.

What a spec puts into a chart's values lands in objects of its own: a scrape config list in the
Prometheus server's ConfigMap, a dashboard in Grafana's. The API server refuses a ConfigMap or
Secret over 1 MiB of data and any object over about 1.5 MiB, and Helm keeps every release in a
Secret of its own, so a large spec can fail only at install. :func:`oversized_objects` estimates,
from the values alone and before any Helm call, which objects would be too large.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from ..documents import DocumentLimits
from .merge import effective, parse_path
from .problems import Problem

if TYPE_CHECKING:
    from .plan import ComponentPlan

KIB = 1024
MIB = 1024 * KIB
SPEC_LIMIT = 512 * KIB
"""The largest platform document gunj accepts, as JSON."""
DATA_LIMIT = 1 * MIB
"""The API server's limit on the data of one ConfigMap or Secret."""
OBJECT_LIMIT = 3 * MIB // 2
"""The API server's (etcd's) limit on any one object."""


def human_size(size: int) -> str:
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    if size >= KIB:
        return f"{size / KIB:.1f} KiB"
    return f"{size} bytes"


def document_size(document: Any) -> int:
    """The size of a document as JSON, the form the API server and Pub/Sub carry it in."""
    return len(json.dumps(document, separators=(",", ":"), default=str).encode())


TEXT_LIMIT = 4 * SPEC_LIMIT
"""A document's text over this size is refused unread: as YAML, a document within
:data:`SPEC_LIMIT` takes at most a few times its JSON size."""


SPEC_DOCUMENT = DocumentLimits(
    max_bytes=TEXT_LIMIT,
    max_size=SPEC_LIMIT,
    max_nodes=100_000,
    max_depth=64,
    max_string=256 * KIB,
    max_number=40,
)
"""How a platform document is read (:mod:`shared.documents`): a real spec holds a few thousand
values at most, nested a dozen levels."""


def text_size_problem(text: str | bytes) -> Problem | None:
    size = len(text) if isinstance(text, bytes) else len(text.encode())
    if size <= TEXT_LIMIT:
        return None
    return Problem(
        "",
        f"the document is {human_size(size)}; gunj accepts at most {human_size(SPEC_LIMIT)} "
        f"(as JSON) and does not read text over {human_size(TEXT_LIMIT)}",
    )


def spec_size_problem(document: Any) -> Problem | None:
    size = document_size(document)
    if size <= SPEC_LIMIT:
        return None
    return Problem(
        "",
        f"the document is {human_size(size)} (as JSON); gunj accepts at most "
        f"{human_size(SPEC_LIMIT)}, to stay well within the API server's object limit "
        f"({human_size(OBJECT_LIMIT)}) and a Pub/Sub message (10 MB)",
    )


@dataclass(frozen=True)
class ConfigObject:
    """An object of a chart whose content comes from values: ``kind`` named ``suffix`` after
    the chart's full name, holding what ``paths`` hold."""

    kind: str
    suffix: str
    paths: tuple[str, ...]


# What each chart renders from values into objects of their own (the objects large values fill).
CONFIG_OBJECTS: dict[str, tuple[ConfigObject, ...]] = {
    "prometheus": (
        ConfigObject(
            "ConfigMap",
            "-server",
            (
                "server.global",
                "server.remoteWrite",
                "server.remoteRead",
                "extraScrapeConfigs",
                "scrapeConfigFiles",
                "serverFiles",
                "ruleFiles",
            ),
        ),
    ),
    "grafana": (
        ConfigObject(
            "ConfigMap",
            "",
            (
                r"grafana\.ini",
                "datasources",
                "notifiers",
                "alerting",
                "dashboardProviders",
                "plugins",
            ),
        ),
    ),
    "loki": (
        ConfigObject(
            "ConfigMap",
            "",
            (
                "loki.config",
                "loki.structuredConfig",
                "loki.storage",
                "loki.schemaConfig",
                "loki.limits_config",
                "loki.compactor",
                "loki.server",
                "loki.commonConfig",
                "loki.rulerConfig",
            ),
        ),
        ConfigObject("ConfigMap", "-runtime", ("loki.runtimeConfig",)),
    ),
    "tempo": (
        ConfigObject(
            "ConfigMap",
            "",
            ("config", "tempo.overrides", "tempo.per_tenant_overrides", "tempo.receivers"),
        ),
    ),
}


def full_name(release: str, chart: str) -> str:
    """The charts' object name prefix: the release name when it holds the chart's name."""
    name = release if chart in release else f"{release}-{chart}"
    return name[:63].rstrip("-")


def _at(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for key in parse_path(path):
        if isinstance(node, Mapping) and isinstance(key, str) and key in node:
            node = node[key]
        else:
            return None
    return node


def _rendered_size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    return len(yaml.safe_dump(value, default_flow_style=False, allow_unicode=True).encode())


def _release_record_size(values: Mapping[str, Any]) -> int:
    """Helm's release Secret holds the values and the manifest rendered from them, as
    base64 of gzip of JSON: the values twice, compressed, is a floor of its size."""
    text = json.dumps(values, separators=(",", ":"), default=str).encode()
    return len(base64.b64encode(gzip.compress(text * 2, mtime=0)))


def oversized_objects(plan: ComponentPlan, values: Mapping[str, Any]) -> list[str]:
    """The objects a component's values would make larger than the API server accepts, one
    sentence each, estimated from the values alone (call it before any Helm call).

    ``values`` are the complete values Helm would get (``plan.complete_values(...)``).
    """
    values = effective(values)
    found = []
    prefix = full_name(plan.release, plan.chart)
    for item in CONFIG_OBJECTS.get(plan.component, ()):
        size = sum(_rendered_size(_at(values, path)) for path in item.paths)
        if size > DATA_LIMIT:
            found.append(
                f"{item.kind} {prefix}{item.suffix} would hold {human_size(size)}; the API "
                f"server accepts at most {human_size(DATA_LIMIT)} in a {item.kind}"
            )
    for provider, dashboards in (values.get("dashboards") or {}).items():
        size = _rendered_size(dashboards)
        if plan.component == "grafana" and size > DATA_LIMIT:
            found.append(
                f"ConfigMap {prefix}-dashboards-{provider} would hold {human_size(size)}; the "
                f"API server accepts at most {human_size(DATA_LIMIT)} in a ConfigMap"
            )
    record = _release_record_size(values)
    if record > DATA_LIMIT:
        found.append(
            f"Secret sh.helm.release.v1.{plan.release} (Helm's record of the release) would "
            f"hold at least {human_size(record)}; the API server accepts at most "
            f"{human_size(DATA_LIMIT)} in a Secret"
        )
    return found

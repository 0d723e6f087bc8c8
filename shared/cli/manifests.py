"""``gunj plan SPEC --manifests``: the objects applying the spec would create, per component,
as YAML documents: native mode's rendered objects, and for Helm mode the chart's manifest as
``helm template`` renders it with the values gunj would pass.

Secrets are never shown. Values a spec takes from a Secret or Secret Manager (``valuesFrom``)
are not read: each component's header names them as references, and the manifest is rendered
without them. The data of every Secret object in the manifest (one a chart generates, say) is
replaced by a note of its size.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from .. import yamlio
from ..cache import cache_root
from ..helm.charts import ChartLibrary, ChartSource
from ..helm.repositories import RepositorySettings
from ..values.plan import ComponentPlan
from ..values.references import references
from ..values.spec import ObservabilityPlatform

SECRET_FIELDS = ("data", "stringData")


def hidden(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj``, with a Secret's values replaced by a note of their size."""
    if obj.get("kind") != "Secret":
        return obj
    shown = dict(obj)
    for key in SECRET_FIELDS:
        entries = obj.get(key)
        if isinstance(entries, dict):
            shown[key] = {
                name: f"<secret value, {len(str(value))} characters: not shown>"
                for name, value in entries.items()
            }
    return shown


def native_objects(platform: ObservabilityPlatform, plan: ComponentPlan) -> list[dict[str, Any]]:
    from ..engine.backends.native import render_objects

    return render_objects(
        platform.metadata.name,
        plan.component,
        release=plan.release,
        namespace=plan.namespace,
        values=plan.literal_complete_values([]),
        app_version=plan.app_version,
    )


def helm_objects(plan: ComponentPlan, version: str, settings: RepositorySettings) -> list[Any]:
    """The chart's manifest as ``helm template`` renders it (no cluster is contacted)."""
    from ..helm.client import HelmClient
    from .target import _helm_binary

    library = ChartLibrary(settings, cache_root())
    pulled = library.pull(ChartSource(plan.repository, plan.chart), version)
    helm = HelmClient.for_path(_helm_binary(), home=cache_root() / "helm")
    text = helm.template(
        plan.release, pulled.reference(), plan.namespace, values=plan.complete_values([])
    )
    return [d for d in yamlio.safe_load_all(text) if d]


def print_manifests(
    platform: ObservabilityPlatform,
    plans: Iterable[ComponentPlan],
    versions: dict[str, str],
    settings: RepositorySettings | None = None,
) -> None:
    """Print each component's objects as YAML documents, after a comment naming it."""
    settings = settings or RepositorySettings.from_environment(os.environ)
    for plan in plans:
        if plan.mode == "native":
            objects: list[Any] = native_objects(platform, plan)
            source = "rendered by gunj (native mode)"
        elif plan.component not in versions:
            print(f"# {plan.component}: Helm mode: its chart is not fetched with --offline")
            continue
        else:
            version = versions[plan.component]
            objects = helm_objects(plan, version, settings)
            source = f"helm template of {plan.chart} {version} from {plan.repository}"
        print(f"# {plan.component}: release {plan.release} in {plan.namespace}, {source}")
        for reference in references(plan.spec):
            print(f"# not read, so not in these objects (never shown by value): {reference}")
        for obj in objects:
            shown = hidden(obj) if isinstance(obj, dict) else obj
            print("---")
            print(yaml.safe_dump(shown, sort_keys=False, default_flow_style=False), end="")

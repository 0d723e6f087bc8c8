"""``gunj plan SPEC --cluster NAME``: what applying the spec would do to the cluster, per
component (install, upgrade, nothing, ...), with the values that would change against the
deployed release, and warnings for what the values ask of the cluster that it lacks. Secrets
are shown as references to their source, never by value."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..errors import GunjError
from ..kube.errors import ApiError
from .conventions import PERMANENT, TRANSIENT, emit

if TYPE_CHECKING:
    from ..engine.preview import ComponentPreview
    from ..values.spec import ObservabilityPlatform


def run_cluster_plan(platform: ObservabilityPlatform, cluster: str, output: str) -> int:
    from ..engine.preview import preview
    from .target import reconciler

    where = f"{platform.metadata.namespace}/{platform.metadata.name}"
    whole = reconciler(cluster)  # unknown or unreachable: reported by main
    engine = whole.scoped()
    try:
        engine = whole.in_namespace(platform.metadata.namespace).scoped()
        previews = preview(engine, platform)
    except ApiError as error:
        failure: GunjError = error.doing(f"reading {where} from {cluster}")
    except GunjError as error:
        failure = error
    else:
        return _show(previews, where, cluster, output)
    # Scrubbed as an apply's outcome is: the plan read the same Secrets and credentials.
    return _failed(engine.redactor(f"{where} on {cluster}: {failure}"), failure.transient)


def _show(previews: list[ComponentPreview], where: str, cluster: str, output: str) -> int:
    if output != "table":
        document = {
            "platform": where,
            "cluster": cluster,
            "components": [p.to_json() for p in previews],
        }
        emit(document, output)
        return 0
    print(f"{where} on {cluster}:")
    if not previews:
        print("  no component is enabled or installed")
    for item in previews:
        _print_component(item)
    return 0


def _failed(message: str, transient: bool) -> int:
    print(f"gunj plan: {message}", file=sys.stderr)
    if transient:
        print(
            "transient: nothing is wrong with the spec; run the command again later",
            file=sys.stderr,
        )
    return TRANSIENT if transient else PERMANENT


def _print_component(item: ComponentPreview) -> None:
    print(f"\n{item.component} ({item.mode} mode): {item.action} - {item.reason}")
    if item.deployed_version != item.wanted_version:
        print(f"  version: {item.deployed_version or 'none'} -> {item.wanted_version or 'none'}")
    elif item.wanted_version:
        print(f"  version: {item.wanted_version}")
    if item.changes:
        print(f"  values ({len(item.changes)} changed):")
        for change in item.changes:
            print(f"    {change.describe()}")
    elif item.wanted_version and item.deployed_version:
        print("  values: as deployed")
    for drifted in item.drift:
        print(f"  drifted: {drifted}")
    for workload in item.not_ready:
        print(f"  not ready: {workload}")
    for warning in item.warnings:
        print(f"  warning: {warning}")

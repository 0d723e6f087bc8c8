"""Native mode's cluster-scoped objects: one name per platform, whatever the namespace and
platform names (``team-a``/``x`` and ``team``/``a-x`` do not share one)."""

from __future__ import annotations

from shared.native.render import render
from shared.values.plan import plan_platform
from tests.unit.test_values_fields import platform


def cluster_scoped_names(namespace: str, name: str) -> set[str]:
    # Cluster-wide discovery: the server's ClusterRole and binding are cluster-scoped.
    spec = {"mode": "native", "discovery": {"clusterWide": True}}
    [plan] = plan_platform(platform({"prometheus": spec}, name, namespace))
    objects = render(
        "prometheus",
        release=plan.release,
        namespace=namespace,
        values=plan.literal_complete_values([]),
        labels={},
    )
    return {o["metadata"]["name"] for o in objects if "namespace" not in o["metadata"]}


def test_platforms_whose_names_join_alike_get_different_cluster_scoped_names() -> None:
    first = cluster_scoped_names("team-a", "x")
    second = cluster_scoped_names("team", "a-x")

    assert first
    assert first.isdisjoint(second)
    assert first == {"team-a:x-prometheus-native"}

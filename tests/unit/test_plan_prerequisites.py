"""Which storage classes and node selectors a component's values ask the cluster for, as
``gunj plan --cluster`` checks them: wherever a chart keeps them, and not in a part switched
off. (The reads themselves: tests/cluster/test_cli_plan_warnings.py.)"""

from __future__ import annotations

from typing import Any

from shared.engine.prerequisites import missing_prerequisites


class Cluster:
    """Nodes and storage classes as the API server would list and get them."""

    def __init__(self, classes: set[str], nodes: list[dict[str, str]]) -> None:
        self.classes = classes
        self.nodes = [{"metadata": {"labels": labels}} for labels in nodes]
        self.asked: list[str] = []
        self.resources = self

    def get(self, kind: Any, namespace: Any, name: str) -> Any:
        self.asked.append(name)
        return {} if name in self.classes else None

    def list(self, kind: Any, namespace: Any) -> Any:
        return self.nodes


def test_what_the_values_ask_for_is_found_where_charts_keep_it() -> None:
    cluster = Cluster({"standard"}, [{"pool": "general"}])
    values = {
        "server": {
            "persistentVolume": {"enabled": True, "storageClass": "fast"},
            "nodeSelector": {"pool": "gpu"},
        },
        "alertmanager": {"persistence": {"storageClassName": "standard"}},
        "sidecars": [{"nodeSelector": {"pool": "general"}}],
        "prometheus-node-exporter": {"enabled": False, "nodeSelector": {"pool": "none"}},
        "pushgateway": {"persistentVolume": {"enabled": False, "storageClass": "slow"}},
        "grafana": {"persistence": {"storageClassName": "-"}},
    }

    warnings = missing_prerequisites(cluster, values)  # type: ignore[arg-type]

    assert warnings == [
        'server.persistentVolume.storageClass: storage class "fast" does not exist on the '
        "cluster; a claim naming it would never bind",
        "server.nodeSelector: no node of the cluster has the labels pool=gpu; its pods would "
        "never be scheduled",
    ]
    assert sorted(cluster.asked) == ["fast", "standard"]  # nothing switched off is looked up

"""The charts' RBAC is namespaced unless the spec names more namespaces: Grafana's Roles go to
its own namespace and each namespace its dashboards sidecar watches; Loki's to its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_values_fields import plan_for


@pytest.mark.parametrize(
    ("sidecar", "rbac"),
    [
        ({"enabled": True}, {"namespaced": True, "namespaces": []}),
        (
            {"enabled": True, "searchNamespace": "mon,a,b,a"},
            {"namespaced": True, "namespaces": ["a", "b"]},
        ),
        # Asked for: every namespace, so a ClusterRole.
        ({"enabled": True, "searchNamespace": "ALL"}, {"namespaced": False}),
        ({"enabled": False, "searchNamespace": "ALL"}, {"namespaced": True, "namespaces": []}),
    ],
)
def test_grafana_rbac_follows_the_namespaces_its_sidecar_watches(
    sidecar: dict[str, Any], rbac: dict[str, Any]
) -> None:
    values = plan_for({"grafana": {"dashboards": {"sidecar": sidecar}}}, "grafana").values

    assert values["rbac"] == rbac


def test_loki_rbac_is_namespaced() -> None:
    assert plan_for({"loki": {}}, "loki").values["rbac"] == {"namespaced": True}

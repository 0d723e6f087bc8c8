"""Objects a chart creates from values as written (extraObjects, extraManifests) stay namespaced
and in the platform's namespace: a spec cannot make a ClusterRoleBinding or reach another
namespace through them, in config (validation) or in the complete values (the engine)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from shared.values.manifests import foreign_objects
from shared.values.validation import validate
from tests.unit.test_values_validation import document

ADMIN_BINDING: dict[str, Any] = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRoleBinding",
    "metadata": {"name": "pwn"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "x"},
    "subjects": [{"kind": "User", "name": "mallory"}],
}
CONFIG_MAP: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}


def test_a_cluster_role_binding_in_config_is_refused_naming_the_field() -> None:
    result = validate(document({"grafana": {"config": {"extraObjects": [ADMIN_BINDING]}}}))

    assert not result.ok
    [problem] = result.problems
    assert problem.path == "spec.grafana.config.extraObjects[0]"
    assert "ClusterRoleBinding" in problem.message
    assert "own namespace" in problem.message


@pytest.mark.parametrize(
    ("component", "values", "path"),
    [
        # A YAML string, as prometheus' extraManifests take them.
        ("prometheus", {"extraManifests": [yaml.safe_dump(ADMIN_BINDING)]}, "extraManifests[0]"),
        # Loki takes a map of objects too.
        ("loki", {"extraObjects": {"a": ADMIN_BINDING}}, "extraObjects.a"),
        (
            "prometheus",
            {"kube-state-metrics": {"extraManifests": [ADMIN_BINDING]}},
            "kube-state-metrics.extraManifests[0]",
        ),
        # A namespaced kind in another namespace.
        (
            "grafana",
            {"extraObjects": [{**CONFIG_MAP, "metadata": {"namespace": "kube-system"}}]},
            "extraObjects[0]",
        ),
        # Nothing of tempo's is created as written.
        ("tempo", {"extraObjects": [ADMIN_BINDING]}, None),
        ("grafana", {"extraObjects": ["{{ .Values.x }}"]}, "extraObjects[0]"),
        ("grafana", {"extraObjects": ["kind: [unclosed"]}, "extraObjects[0]"),
        ("grafana", {"namespaceOverride": "kube-system"}, "namespaceOverride"),
    ],
)
def test_objects_outside_the_namespace_are_found(
    component: str, values: dict[str, Any], path: str | None
) -> None:
    problems = foreign_objects(component, values, "mon")

    assert [p.path for p in problems] == ([path] if path else [])


def test_namespaced_objects_of_the_platform_pass() -> None:
    values = {
        "extraObjects": [
            CONFIG_MAP,
            {**CONFIG_MAP, "metadata": {"name": "b", "namespace": "mon"}},
            yaml.safe_dump({**CONFIG_MAP, "kind": "Secret"}),
        ],
        "namespaceOverride": "mon",
    }

    assert foreign_objects("grafana", values, "mon") == []


def test_an_unknown_kind_is_refused_as_possibly_cluster_scoped() -> None:
    custom = {"apiVersion": "example.com/v1", "kind": "ClusterThing", "metadata": {"name": "x"}}

    [problem] = foreign_objects("grafana", {"extraObjects": [custom]}, "mon")

    assert "not known to gunj to be namespaced" in problem.message

"""The charts' RBAC is namespaced unless the spec names more namespaces: Grafana's Roles go to
its own namespace and each namespace its dashboards sidecar watches; Loki's to its own; the
Prometheus server's to its own and each namespace ``discovery.namespaces`` names, its scrape
jobs discovering there only, unless ``discovery.clusterWide``."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from shared.values.build.prometheus import cluster_role_name
from shared.values.manifests import foreign_objects, granted_namespaces
from shared.values.validation import validate
from tests.unit.test_values_fields import plan_for
from tests.unit.test_values_validation import document

CLUSTER_JOBS = ("kubernetes-api-servers", "kubernetes-nodes", "kubernetes-nodes-cadvisor")


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


def _manifests(values: dict[str, Any]) -> list[tuple[str, str, str]]:
    documents = [yaml.safe_load(text) for text in values["extraManifests"]]
    return [(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]) for d in documents]


@pytest.mark.parametrize(
    ("discovery", "namespaces"),
    [({}, ["mon"]), ({"namespaces": ["apps", "mon", "apps", "web"]}, ["mon", "apps", "web"])],
)
def test_prometheus_discovers_and_reads_only_the_namespaces_the_spec_names(
    discovery: dict[str, Any], namespaces: list[str]
) -> None:
    plan = plan_for({"prometheus": {"discovery": discovery}}, "prometheus")
    values = plan.values

    # The chart's ClusterRole and its binding off; a Role and RoleBinding per namespace.
    assert values["rbac"] == {"create": False}
    assert sorted(_manifests(values)) == sorted(
        (kind, namespace, "obs-prometheus-server")
        for kind in ("Role", "RoleBinding")
        for namespace in namespaces
    )
    binding = yaml.safe_load(values["extraManifests"][-1])
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "obs-prometheus-server", "namespace": "mon"}
    ]
    assert values["serviceAccounts"]["server"]["name"] == "obs-prometheus-server"
    jobs = values["scrapeConfigs"]
    assert all(jobs[job] == {"enabled": False} for job in CLUSTER_JOBS)
    discovering = {k: v for k, v in jobs.items() if "kubernetes_sd_configs" in v}
    assert len(discovering) == 6
    for job in discovering.values():
        [config] = job["kubernetes_sd_configs"]
        assert config["namespaces"] == {"names": namespaces}
    [alertmanagers] = values["server"]["alertmanagers"]
    assert alertmanagers["kubernetes_sd_configs"] == [
        {"role": "pod", "namespaces": {"names": ["mon"]}}
    ]
    # The engine's check of the complete values lets these through, and only with the spec's
    # namespaces granted.
    granted = granted_namespaces(plan.spec)
    assert foreign_objects("prometheus", values, "mon", granted=granted) == []
    if len(namespaces) > 1:
        refused = foreign_objects("prometheus", values, "mon")
        assert refused and all(
            "namespace 'apps'" in p.message or "'web'" in p.message for p in refused
        )


def test_cluster_wide_prometheus_keeps_the_charts_cluster_role_under_a_name_of_its_own() -> None:
    values = plan_for({"prometheus": {"discovery": {"clusterWide": True}}}, "prometheus").values

    assert values["rbac"] == {"create": True}
    # Two platforms named alike in two namespaces do not share one ClusterRole.
    assert values["server"]["clusterRoleNameOverride"] == "mon:obs-prometheus-server"
    assert "extraManifests" not in values
    assert "scrapeConfigs" not in values
    assert "alertmanagers" not in values["server"]


@pytest.mark.parametrize(
    ("discovery", "path", "words"),
    [
        ({"clusterWide": True, "namespaces": ["apps"]}, "namespaces", "clusterWide"),
        ({"namespaces": ["Apps"]}, "namespaces[0]", "not a valid name"),
        ({"namespaces": "apps"}, "namespaces", "list"),
        ({"namespace": ["apps"]}, "namespace", "unknown field"),
    ],
)
def test_bad_discovery_is_refused_naming_the_field(
    discovery: dict[str, Any], path: str, words: str
) -> None:
    result = validate(document({"prometheus": {"discovery": discovery}}))

    assert not result.ok
    [problem] = result.problems
    assert problem.path == f"spec.prometheus.discovery.{path}"
    assert words in problem.message


def test_config_may_add_rbac_in_a_named_namespace_and_nothing_else_there() -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "r", "namespace": "apps"},
    }
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": role["metadata"]}
    config = {"extraManifests": [yaml.safe_dump(role), yaml.safe_dump(deployment)]}

    named = validate(
        document({"prometheus": {"discovery": {"namespaces": ["apps"]}, "config": config}})
    )
    unnamed = validate(document({"prometheus": {"config": config}}))

    assert [p.path for p in named.problems] == ["spec.prometheus.config.extraManifests[1]"]
    assert [p.path for p in unnamed.problems] == [
        "spec.prometheus.config.extraManifests[0]",
        "spec.prometheus.config.extraManifests[1]",
    ]


def test_cluster_role_names_of_long_namespaces_stay_apart_within_the_charts_limit() -> None:
    namespace = "n" * 60
    first, second = (cluster_role_name(namespace, name) for name in ("obs", "obs2"))

    assert first != second
    assert len(first) <= 63
    assert len(second) <= 63
    assert cluster_role_name("mon", "obs") == "mon:obs-prometheus-server"


def test_config_extra_manifests_warn_that_they_replace_the_servers_rbac() -> None:
    config = {"extraManifests": []}
    namespaced = validate(document({"prometheus": {"config": config}}))
    cluster_wide = validate(
        document({"prometheus": {"config": config, "discovery": {"clusterWide": True}}})
    )

    assert namespaced.ok
    assert [w.path for w in namespaced.warnings] == ["spec.prometheus.config.extraManifests"]
    assert "Role and RoleBinding" in namespaced.warnings[0].message
    assert cluster_wide.warnings == []

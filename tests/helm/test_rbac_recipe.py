"""The RBAC recipe a platform's ServiceAccount gets (`gunj clusters rbac`, shared/clusters/rbac.py)
against what the charts render with gunj's values: every object is one the account may create,
and every rule of a Role or ClusterRole the charts make is one the account holds (the API
server's escalation check refuses to let it grant more). The charts' own RBAC is namespaced:
no ClusterRole of Loki or Grafana reads Secrets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
import yaml

from shared.clusters.rbac import CLUSTER_ROLE, PLATFORM_ROLE, rules
from shared.helm import HelmClient
from shared.localstack.stack import Stack
from shared.native.render import render
from shared.values.plan import ComponentPlan, plan_platform
from tests.support import http_chart, latest_version
from tests.unit.test_values_fields import platform

CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "Namespace", "PersistentVolume"}
# Every component, Grafana's dashboards sidecar on (it is what reads ConfigMaps and Secrets).
SPEC: dict[str, Any] = {
    "prometheus": {},
    "loki": {},
    "tempo": {},
    "grafana": {
        "adminCredentials": {"existingSecret": "admin"},
        "dashboards": {"sidecar": {"enabled": True}},
    },
}
# (API group, resource) of each kind the charts render.
RESOURCES = {
    "ConfigMap": ("", "configmaps"),
    "Secret": ("", "secrets"),
    "Service": ("", "services"),
    "ServiceAccount": ("", "serviceaccounts"),
    "PersistentVolumeClaim": ("", "persistentvolumeclaims"),
    "Pod": ("", "pods"),
    "Deployment": ("apps", "deployments"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "Job": ("batch", "jobs"),
    "Ingress": ("networking.k8s.io", "ingresses"),
    "Role": ("rbac.authorization.k8s.io", "roles"),
    "RoleBinding": ("rbac.authorization.k8s.io", "rolebindings"),
    "ClusterRole": ("rbac.authorization.k8s.io", "clusterroles"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "clusterrolebindings"),
}


def grants(held: Iterable[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    return any(
        (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", []))
        and (resource in r.get("resources", []) or "*" in r.get("resources", []))
        and (verb in r["verbs"] or "*" in r["verbs"])
        and not r.get("resourceNames")
        for r in held
    )


def not_held(rule: dict[str, Any], held: list[dict[str, Any]]) -> list[str]:
    """What of ``rule`` the ``held`` rules do not grant."""
    missing = []
    for url in rule.get("nonResourceURLs", []):
        for verb in rule["verbs"]:
            if not any(url in r.get("nonResourceURLs", []) and verb in r["verbs"] for r in held):
                missing.append(f"{verb} {url}")
    for group in rule.get("apiGroups", []):
        for resource in rule.get("resources", []):
            missing += [
                f"{verb} {group or 'core'}/{resource}"
                for verb in rule["verbs"]
                if not grants(held, group, resource, verb)
            ]
    return missing


def rendered(helm: HelmClient, stack: Stack, plan: ComponentPlan) -> list[dict[str, Any]]:
    chart = http_chart(stack, plan.chart, latest_version(stack, plan.chart))
    text = helm.template(plan.release, chart, plan.namespace, values=plan.values)
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]


@pytest.fixture
def objects(helm: HelmClient, local_stack: Stack) -> dict[str, list[dict[str, Any]]]:
    return {
        plan.component: rendered(helm, local_stack, plan) for plan in plan_platform(platform(SPEC))
    }


def test_the_recipe_lets_the_platform_account_create_what_the_charts_render(
    objects: dict[str, list[dict[str, Any]]],
) -> None:
    recipe = rules()
    in_namespace = recipe[PLATFORM_ROLE] + recipe[CLUSTER_ROLE]
    problems = []
    for component, documents in objects.items():
        for document in documents:
            kind = document["kind"]
            name = f"{component}: {kind} {document['metadata']['name']}"
            held = recipe[CLUSTER_ROLE] if kind in CLUSTER_SCOPED else recipe[PLATFORM_ROLE]
            group, resource = RESOURCES[kind]
            if not grants(held, group, resource, "create"):
                problems.append(f"{name}: the recipe does not let the account create it")
            # A Role is checked against what the account holds in the namespace, a ClusterRole
            # against what it holds cluster-wide (RBAC's escalation check).
            scope = recipe[CLUSTER_ROLE] if kind == "ClusterRole" else in_namespace
            for rule in document.get("rules") or []:
                problems += [
                    f"{name}: grants {m}, which the account does not hold"
                    for m in not_held(rule, scope)
                ]

    assert problems == []
    kinds = {d["kind"] for documents in objects.values() for d in documents}
    assert {"Role", "RoleBinding", "ServiceAccount"} <= kinds


def test_loki_and_grafana_make_no_cluster_role_reading_secrets_by_default(
    objects: dict[str, list[dict[str, Any]]],
) -> None:
    for component in ("loki", "grafana"):
        kinds = [d["kind"] for d in objects[component]]
        assert "ClusterRole" not in kinds, component
        assert "ClusterRoleBinding" not in kinds, component
        [role] = [d for d in objects[component] if d["kind"] == "Role"]
        # The sidecar reads its own namespace only.
        assert role["metadata"]["namespace"] == "mon"
        assert any("secrets" in rule["resources"] for rule in role["rules"])


def test_prometheus_server_rbac_is_namespaced_and_held_by_the_namespace_role_alone(
    objects: dict[str, list[dict[str, Any]]],
) -> None:
    kinds = [d["kind"] for d in objects["prometheus"]]
    [role] = [d for d in objects["prometheus"] if d["kind"] == "Role"]
    [binding] = [d for d in objects["prometheus"] if d["kind"] == "RoleBinding"]

    # The server makes no cluster-scoped RBAC (the test chart reduces the kube-state-metrics
    # subchart, whose ClusterRole is its own, to its workload).
    assert "ClusterRole" not in kinds
    assert "ClusterRoleBinding" not in kinds
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "mon"
    # A namespace where only gunj-platform is bound can hold the server's Role.
    held = rules()[PLATFORM_ROLE]
    assert [m for rule in role["rules"] for m in not_held(rule, held)] == []


def test_cluster_wide_prometheus_rbac_is_what_the_cluster_role_of_the_recipe_holds(
    helm: HelmClient, local_stack: Stack
) -> None:
    [plan] = plan_platform(platform({"prometheus": {"discovery": {"clusterWide": True}}}))
    documents = rendered(helm, local_stack, plan)
    held = rules()[CLUSTER_ROLE]

    [role] = [d for d in documents if d["kind"] == "ClusterRole"]
    [binding] = [d for d in documents if d["kind"] == "ClusterRoleBinding"]
    assert role["metadata"]["name"] == binding["roleRef"]["name"] == "mon:obs-prometheus-server"
    assert [m for rule in role["rules"] for m in not_held(rule, held)] == []
    assert grants(held, "rbac.authorization.k8s.io", "clusterroles", "create")


@pytest.mark.parametrize(
    ("discovery", "kinds"),
    [({}, {"Role", "RoleBinding"}), ({"clusterWide": True}, {"ClusterRole", "ClusterRoleBinding"})],
)
def test_the_recipe_lets_the_platform_account_grant_native_modes_rbac(
    discovery: dict[str, Any], kinds: set[str]
) -> None:
    [plan] = plan_platform(platform({"prometheus": {"mode": "native", "discovery": discovery}}))
    objects = render(
        "prometheus",
        release=plan.release,
        namespace="mon",
        values=plan.literal_complete_values([]),
        labels={},
    )
    recipe = rules()
    rbac = [o for o in objects if "Role" in o["kind"]]

    assert {o["kind"] for o in rbac} == kinds
    for obj in rbac:
        held = recipe[CLUSTER_ROLE] if obj["kind"] in CLUSTER_SCOPED else recipe[PLATFORM_ROLE]
        group, resource = RESOURCES[obj["kind"]]
        assert grants(held, group, resource, "create")
        assert [m for rule in obj.get("rules") or [] for m in not_held(rule, held)] == []

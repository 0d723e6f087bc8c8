"""Platforms acting as a ServiceAccount of their namespace, on the local cluster's real RBAC:
gunj's own identity is a ServiceAccount holding only what ``gunj clusters rbac`` grants it, and
every request and Helm process for a platform impersonates the namespace's ServiceAccount, so
the cluster decides what a spec may create. A namespace the registry does not allow is refused
before anything happens."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from shared.clusters import ClusterRegistry
from shared.clusters.rbac import recipe, subject
from shared.engine.connect import reconciler_for
from shared.engine.reconciler import Reconciler
from shared.engine.request import Request
from shared.engine.resource import read_platform
from shared.helm import HelmClient
from shared.helm.releases import ReleaseStore
from shared.kube import ClusterAccess
from shared.kube.errors import ApiForbidden
from shared.localstack.stack import Stack
from shared.values.build.prometheus import cluster_role_name
from shared.values.crd import crd_manifest
from shared.values.validation import validate
from tests.cluster.test_cluster_registry import inlined
from tests.engine_support import SMALL_PROMETHEUS, platform

ACCOUNT = "gunj-platform"


@dataclass
class Tenant:
    """A registry whose cluster ``tenant`` is the local cluster reached as ``controller`` (a
    ServiceAccount with gunj-controller's rights only), its platforms acting as ``ACCOUNT``."""

    env: dict[str, str]
    namespace: str
    controller: str

    def reconciler(self) -> Reconciler:
        return reconciler_for(ClusterRegistry.load(self.env).get("tenant"), self.env)


def apply_documents(kubeconfig: Path, documents: list[dict[str, Any]]) -> None:
    """What an administrator does with `gunj clusters rbac`'s output."""
    subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
        ],
        input=yaml.safe_dump_all(documents),
        text=True,
        check=True,
        capture_output=True,
    )


def controller_kubeconfig(
    local: dict[str, Any], token: str, folder: Path, name: str
) -> tuple[Path, str]:
    server = local["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": server}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": "local", "user": name}}],
        "current-context": name,
    }
    path = folder / "controller.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path, name


@pytest.fixture
def tenant(
    cluster: ClusterAccess,
    namespace: str,
    local_stack: Stack,
    helm: HelmClient,
    tmp_path: Path,
    engine_cache: Path,
) -> Iterator[Tenant]:
    controller = f"gunj-controller-{uuid.uuid4().hex[:6]}"
    cluster.core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=controller))
    )
    who = subject("ServiceAccount", f"{namespace}/{controller}")
    documents = recipe(crd_manifest(), [namespace], ACCOUNT, who)
    apply_documents(local_stack.kubeconfig, documents)
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    token = cluster.core.create_namespaced_service_account_token(controller, namespace, request)
    path, context = controller_kubeconfig(
        inlined(local_stack.kubeconfig), token.status.token, tmp_path, controller
    )
    registry = {
        "tenant": {
            "kubeconfig": str(path),
            "context": context,
            "namespaces": [namespace],
            "serviceAccount": ACCOUNT,
        }
    }
    env = {
        **local_stack.environment(),
        "GUNJ_CLUSTER_REGISTRY": json.dumps(registry),
        "GUNJ_HELM_BINARY": str(helm.binary.path),
        "GUNJ_CACHE_DIR": str(engine_cache),
    }
    yield Tenant(env, namespace, controller)
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    for document in documents:
        if document["kind"] == "ClusterRoleBinding":
            rbac.delete_cluster_role_binding(document["metadata"]["name"])


def test_a_platform_acting_as_its_namespace_account_installs_resyncs_and_is_removed(
    tenant: Tenant, cluster: ClusterAccess
) -> None:
    engine = tenant.reconciler()
    spec = platform(tenant.namespace, prometheus=SMALL_PROMETHEUS, grafana={})

    applied = engine.apply(spec)
    resynced = engine.resync(tenant.namespace, "obs")

    assert applied.result == "ready", applied
    assert resynced.result == "ready", resynced
    stored = read_platform(cluster, tenant.namespace, "obs")
    assert stored is not None
    assert stored.status.acting_as == f"system:serviceaccount:{tenant.namespace}:{ACCOUNT}"
    releases = ReleaseStore(cluster)
    assert releases.observe("obs-prometheus", tenant.namespace).revision == 1
    removed = engine.uninstall(tenant.namespace, "obs")
    assert removed.result == "removed", removed
    assert releases.revisions("obs-grafana", tenant.namespace) == []


def test_a_platform_in_a_namespace_the_registry_does_not_allow_is_refused_untouched(
    tenant: Tenant, cluster: ClusterAccess, namespace: str
) -> None:
    other = f"{namespace}-other"[:63]
    engine = tenant.reconciler()

    outcome = engine.apply(platform(other, prometheus=SMALL_PROMETHEUS))

    assert outcome.result == "refused", outcome
    assert f"does not allow platforms in namespace '{other}'" in outcome.message
    names = {n.metadata.name for n in cluster.core.list_namespace().items}
    assert other not in names


def test_gunj_own_identity_reads_a_namespace_secret_only_as_its_service_account(
    tenant: Tenant,
) -> None:
    registered = ClusterRegistry.load(tenant.env).get("tenant")
    with registered.connect() as connection:
        own = connection.access()
        with pytest.raises(ApiForbidden):
            own.core.list_namespaced_secret(tenant.namespace)
        acting = registered.tenancy.access_in(own, "tenant", tenant.namespace)
        assert acting.core.list_namespaced_secret(tenant.namespace).items is not None


def admin_binding(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    """A binding of cluster-admin to a user of the spec's choosing."""
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "mallory"}],
    }


def document(namespace: str, **components: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": "obs", "namespace": namespace},
        "spec": components,
    }


GRAFANA = {"adminCredentials": {"existingSecret": "grafana-admin"}}


def test_a_cluster_role_binding_of_cluster_admin_is_refused_and_nothing_is_created(
    tenant: Tenant, cluster: ClusterAccess
) -> None:
    name = f"pwn-{uuid.uuid4().hex[:6]}"
    objects = {"extraObjects": [admin_binding("ClusterRoleBinding", name)]}
    rbac = client.RbacAuthorizationV1Api(cluster.api)

    # In config: refused by validation, naming the field.
    result = validate(document(tenant.namespace, grafana={**GRAFANA, "config": objects}))
    assert [p.path for p in result.problems] == ["spec.grafana.config.extraObjects[0]"]
    # In a valuesFrom ConfigMap, read only at reconcile time: refused by the engine.
    cluster.core.create_namespaced_config_map(
        tenant.namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="values"),
            data={"values.yaml": yaml.safe_dump(objects)},
        ),
    )
    values_from = [{"kind": "ConfigMap", "name": "values", "key": "values.yaml"}]
    outcome = tenant.reconciler().apply(
        platform(tenant.namespace, grafana={**GRAFANA, "valuesFrom": values_from}), Request()
    )

    assert outcome.result == "refused", outcome
    assert "extraObjects[0]" in outcome.message
    assert "ClusterRoleBinding" in outcome.message
    assert name not in {b.metadata.name for b in rbac.list_cluster_role_binding().items}
    assert ReleaseStore(cluster).revisions("obs-grafana", tenant.namespace) == []


def test_a_role_binding_to_cluster_admin_is_refused_by_the_clusters_rbac(
    tenant: Tenant, cluster: ClusterAccess
) -> None:
    """A namespaced binding passes gunj's checks; the API server refuses it (RBAC's escalation
    check: the platform's account does not hold cluster-admin's rights) and nothing of it stays."""
    name = f"pwn-{uuid.uuid4().hex[:6]}"
    config = {"extraObjects": [admin_binding("RoleBinding", name, tenant.namespace)]}

    outcome = tenant.reconciler().apply(
        platform(tenant.namespace, grafana={**GRAFANA, "config": config}), Request()
    )

    assert outcome.result not in {"ready", "refused"}, outcome
    status = read_platform(cluster, tenant.namespace, "obs")
    assert status is not None
    said = json.dumps(status.status.model_dump(mode="json")) + outcome.message
    assert "not currently held" in said or "escalat" in said, said
    bindings = client.RbacAuthorizationV1Api(cluster.api).list_namespaced_role_binding(
        tenant.namespace
    )
    assert name not in {b.metadata.name for b in bindings.items}


def test_loki_and_grafana_get_no_cluster_role_reading_secrets(
    tenant: Tenant, cluster: ClusterAccess
) -> None:
    """The charts' RBAC as gunj sets it: Roles in the platform's namespace, which the platform's
    account may grant (it reads its own namespace's Secrets); a ClusterRole reading every Secret
    of the cluster it could not."""
    sidecar = {"dashboards": {"sidecar": {"enabled": True}}}
    outcome = tenant.reconciler().apply(
        platform(tenant.namespace, loki={}, grafana={**GRAFANA, **sidecar}), Request()
    )

    assert outcome.result == "ready", outcome
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    ours = "app.kubernetes.io/instance in (obs-loki,obs-grafana)"
    reading_secrets = [
        role.metadata.name
        for role in rbac.list_cluster_role(label_selector=ours).items
        if any("secrets" in (rule.resources or []) for rule in role.rules or [])
    ]
    assert reading_secrets == []
    roles = rbac.list_namespaced_role(tenant.namespace, label_selector=ours).items
    assert len(roles) == 2
    assert all(any("secrets" in (rule.resources or []) for rule in role.rules) for role in roles)


def server_rbac(cluster: ClusterAccess, namespaces: list[str]) -> dict[str, set[str]]:
    """Where the Prometheus server's RBAC is: ``cluster`` for its ClusterRoles and bindings,
    else by namespace, the kinds found there."""
    rbac = client.RbacAuthorizationV1Api(cluster.api)

    def server(item: Any) -> bool:
        # As the chart, gunj's extra manifests and native mode label the server's objects.
        labels = item.metadata.labels or {}
        return (
            labels.get("app.kubernetes.io/name") == "prometheus"
            and labels.get("app.kubernetes.io/component") == "server"
        )

    def platforms_own(item: Any, namespace: str) -> bool:
        # Helm's release namespace, or native mode's label: the platform's either way.
        annotations = item.metadata.annotations or {}
        labels = item.metadata.labels or {}
        return namespace in (
            annotations.get("meta.helm.sh/release-namespace"),
            labels.get("gunj.io/namespace"),
        )

    found: dict[str, set[str]] = {}
    for kind, items in (
        ("ClusterRole", rbac.list_cluster_role().items),
        ("ClusterRoleBinding", rbac.list_cluster_role_binding().items),
    ):
        if any(server(i) and platforms_own(i, namespaces[0]) for i in items):
            found.setdefault("cluster", set()).add(kind)
    for where in namespaces:
        for kind, items in (
            ("Role", rbac.list_namespaced_role(where).items),
            ("RoleBinding", rbac.list_namespaced_role_binding(where).items),
        ):
            if any(server(i) for i in items):
                found.setdefault(where, set()).add(kind)
    return found


def let_discovery_into(cluster: ClusterAccess, other: str, platforms: str) -> None:
    """What an administrator does to let a platform's account make its Prometheus' Role in
    another namespace: bind gunj-platform there to the account."""
    cluster.ensure_namespace(other, labels={"gunj.io/test": "true"})
    client.RbacAuthorizationV1Api(cluster.api).create_namespaced_role_binding(
        other,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name=f"{ACCOUNT}-{platforms}"[:63]),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=ACCOUNT
            ),
            subjects=[
                client.RbacV1Subject(kind="ServiceAccount", name=ACCOUNT, namespace=platforms)
            ],
        ),
    )


@pytest.mark.parametrize("mode", ["helm", "native"])
def test_prometheus_discovers_in_its_namespace_and_those_the_spec_names_only(
    tenant: Tenant, cluster: ClusterAccess, mode: str
) -> None:
    """The server's RBAC as gunj sets it, made through the platform's account: a Role and
    RoleBinding in its namespace, none cluster-wide; a namespace the spec names gets them too,
    and, through Helm, loses them when the spec no longer names it."""
    other = f"{tenant.namespace}-apps"[:63]
    let_discovery_into(cluster, other, tenant.namespace)
    engine = tenant.reconciler()
    try:
        first = engine.apply(
            platform(tenant.namespace, prometheus={**SMALL_PROMETHEUS, "mode": mode}), Request()
        )
        assert first.result == "ready", first
        assert server_rbac(cluster, [tenant.namespace, other]) == {
            tenant.namespace: {"Role", "RoleBinding"}
        }

        widened = {**SMALL_PROMETHEUS, "mode": mode, "discovery": {"namespaces": [other]}}
        second = engine.apply(platform(tenant.namespace, prometheus=widened), Request())
        assert second.result == "ready", second
        assert server_rbac(cluster, [tenant.namespace, other]) == {
            tenant.namespace: {"Role", "RoleBinding"},
            other: {"Role", "RoleBinding"},
        }
        rbac = client.RbacAuthorizationV1Api(cluster.api)
        [binding] = [
            b
            for b in rbac.list_namespaced_role_binding(other).items
            if b.metadata.name.startswith("obs-prometheus")
        ]
        assert [(s.kind, s.namespace) for s in binding.subjects] == [
            ("ServiceAccount", tenant.namespace)
        ]
        assert binding.role_ref.kind == "Role"

        if mode == "helm":
            third = engine.apply(
                platform(tenant.namespace, prometheus={**SMALL_PROMETHEUS, "mode": mode}),
                Request(),
            )
            assert third.result == "ready", third
            assert other not in server_rbac(cluster, [tenant.namespace, other])
    finally:
        cluster.delete_namespace(other)


def test_cluster_wide_prometheus_gets_a_cluster_role_of_its_own(
    tenant: Tenant, cluster: ClusterAccess
) -> None:
    """Cluster-wide discovery brings back the chart's ClusterRole, named after the platform's
    namespace so that the many platforms named alike on one cluster do not share it; it goes
    with the platform."""
    engine = tenant.reconciler()
    spec = {**SMALL_PROMETHEUS, "discovery": {"clusterWide": True}}
    name = cluster_role_name(tenant.namespace, "obs")
    rbac = client.RbacAuthorizationV1Api(cluster.api)

    try:
        outcome = engine.apply(platform(tenant.namespace, prometheus=spec), Request())

        assert outcome.result == "ready", outcome
        assert server_rbac(cluster, [tenant.namespace]) == {
            "cluster": {"ClusterRole", "ClusterRoleBinding"}
        }
        role = rbac.read_cluster_role(name)
        assert any("nodes" in (rule.resources or []) for rule in role.rules)
        binding = rbac.read_cluster_role_binding(name)
        assert [(s.name, s.namespace) for s in binding.subjects] == [
            ("obs-prometheus-server", tenant.namespace)
        ]
    finally:
        # Cluster-scoped: deleting the namespace would leave them.
        removed = engine.uninstall(tenant.namespace, "obs")
    assert removed.result == "removed", removed
    assert name not in {r.metadata.name for r in rbac.list_cluster_role().items}


def test_a_namespace_the_account_may_not_reach_is_refused_by_the_clusters_rbac(
    tenant: Tenant, cluster: ClusterAccess
) -> None:
    """Naming a namespace for discovery passes gunj; the cluster decides: where the platform's
    account holds no rights, the API server refuses the server's Role there, and the change
    says so."""
    other = f"{tenant.namespace}-apps"[:63]
    cluster.ensure_namespace(other, labels={"gunj.io/test": "true"})
    spec = {**SMALL_PROMETHEUS, "discovery": {"namespaces": [other]}}
    try:
        outcome = tenant.reconciler().apply(platform(tenant.namespace, prometheus=spec), Request())

        assert outcome.result not in {"ready", "refused"}, outcome
        status = read_platform(cluster, tenant.namespace, "obs")
        assert status is not None
        said = json.dumps(status.status.model_dump(mode="json")) + outcome.message
        assert "forbidden" in said.lower(), said
        assert other not in server_rbac(cluster, [tenant.namespace, other])
    finally:
        cluster.delete_namespace(other)

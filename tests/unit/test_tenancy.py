"""Where a cluster's platforms may live and whose rights their work has, without a cluster:
the registry's fields, the identity each namespace's work impersonates (API requests and Helm
alike), and the RBAC `gunj clusters rbac` prints. The local cluster's real RBAC judges the same
in tests/cluster/test_tenancy.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shared.cli.main import main
from shared.clusters import ClusterRegistry
from shared.clusters.errors import NamespaceNotAllowed
from shared.clusters.rbac import CONTROLLER_ROLE, PLATFORM_ROLE, recipe, subject
from shared.clusters.tenancy import OWN_CREDENTIALS, Tenancy
from shared.helm.client import KubeTarget
from shared.kube import ClusterAccess
from shared.values.crd import crd_manifest

REGISTRY = """
shared:
  kubeconfig: /k
  context: c
teams:
  kubeconfig: /k
  context: c
  namespaces: [observability, "team-*"]
  serviceAccount: gunj-platform
"""


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClusterRegistry:
    path = tmp_path / "clusters.yaml"
    path.write_text(REGISTRY)
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)
    monkeypatch.setenv("GUNJ_CLUSTERS", str(path))
    return ClusterRegistry.load()


def test_a_cluster_without_fields_takes_any_namespace_with_its_own_credentials(
    registry: ClusterRegistry,
) -> None:
    tenancy = registry.get("shared").tenancy
    own = ClusterAccess(Path("/k"), "c")

    assert tenancy == Tenancy()
    assert tenancy.access_in(own, "shared", "anything") is own
    assert tenancy.acting_as("anything") == OWN_CREDENTIALS


def test_each_namespace_acts_as_its_own_service_account_and_others_are_refused(
    registry: ClusterRegistry,
) -> None:
    tenancy = registry.get("teams").tenancy
    own = ClusterAccess(Path("/k"), "c")

    acting = tenancy.access_in(own, "teams", "team-blue")
    assert acting.acting_as == "system:serviceaccount:team-blue:gunj-platform"
    assert (acting.kubeconfig, acting.context) == (own.kubeconfig, own.context)
    assert tenancy.access_in(own, "teams", "observability").acting_as == (
        "system:serviceaccount:observability:gunj-platform"
    )
    with pytest.raises(NamespaceNotAllowed) as refused:
        tenancy.access_in(own, "teams", "kube-system")
    assert "cluster 'teams' does not allow platforms in namespace 'kube-system'" in str(
        refused.value
    )
    assert "observability, team-*" in str(refused.value)
    assert not refused.value.transient


def test_helm_impersonates_the_same_identity_as_the_api_client() -> None:
    target = KubeTarget(
        "team-blue", Path("/k"), "c", as_user="system:serviceaccount:team-blue:gunj"
    )

    flags = target.flags()

    assert flags[flags.index("--kube-as-user") + 1] == "system:serviceaccount:team-blue:gunj"
    assert "--kube-as-user" not in KubeTarget("team-blue", Path("/k"), "c").flags()


def test_the_recipe_names_the_crd_and_api_group_gunj_serves() -> None:
    crd = crd_manifest()
    documents = recipe(crd_manifest(), ["team-blue"], "gunj-platform", subject("User", "gunj@acme"))
    roles = {d["metadata"]["name"]: d for d in documents if d["kind"] == "ClusterRole"}

    group = crd["spec"]["group"]
    plural = crd["spec"]["names"]["plural"]
    platform_rules = roles[PLATFORM_ROLE]["rules"]
    assert any(group in r.get("apiGroups", []) and plural in r["resources"] for r in platform_rules)
    controller = roles[CONTROLLER_ROLE]["rules"]
    assert any(crd["metadata"]["name"] in r.get("resourceNames", []) for r in controller)
    assert documents[0] == crd


def test_no_rule_of_the_recipe_reads_secrets_outside_the_namespace_or_escalates() -> None:
    documents = recipe(crd_manifest(), ["team-blue"], "gunj-platform", subject("Group", "gunj"))
    cluster_wide = {
        binding["roleRef"]["name"]
        for binding in documents
        if binding["kind"] == "ClusterRoleBinding"
    }
    roles = {d["metadata"]["name"]: d for d in documents if d["kind"] == "ClusterRole"}

    for name in cluster_wide:
        for rule in roles[name]["rules"]:
            assert "secrets" not in rule.get("resources", []), name
            assert not {"escalate", "bind", "impersonate", "*"} & set(rule["verbs"]), name
    impersonate = next(d for d in documents if d["kind"] == "Role")
    assert impersonate["rules"][0]["resourceNames"] == ["gunj-platform"]


def test_gunj_clusters_rbac_prints_what_an_administrator_applies(
    registry: ClusterRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clusters", "rbac", "teams", "team-blue", "observability"]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    accounts = [
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in documents
        if d["kind"] == "ServiceAccount"
    ]
    assert accounts == [("team-blue", "gunj-platform"), ("observability", "gunj-platform")]

    assert main(["clusters", "rbac", "teams", "kube-system"]) == 1
    assert "does not allow platforms in namespace 'kube-system'" in capsys.readouterr().err
    assert main(["clusters", "rbac", "shared", "team-blue"]) == 1
    assert "names no serviceAccount" in capsys.readouterr().err
    assert main(["clusters", "rbac", "teams", "team-blue", "--controller", "Robot:x"]) == 2

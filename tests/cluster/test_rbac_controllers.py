"""`gunj clusters rbac` with several identities of gunj's own (each function's, in Google
Cloud), judged by the local cluster's real RBAC: each named identity may list the platforms and
act as the namespace's ServiceAccount, and an identity the recipe does not name may do
neither."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from shared.cli.main import main
from shared.clusters import current_context_of
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack

ACCOUNT = "gunj-platform"


def allowed(cluster: ClusterAccess, user: str, attributes: client.V1ResourceAttributes) -> bool:
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user=user, resource_attributes=attributes)
    )
    answer = client.AuthorizationV1Api(cluster.api).create_subject_access_review(review)
    return bool(answer.status.allowed)


@pytest.fixture
def applied(
    cluster: ClusterAccess,
    namespace: str,
    local_stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[list[str]]:
    """The recipe for ``namespace``, naming two ServiceAccounts as gunj's identities, printed by
    the command and applied as an administrator applies it; the two users."""
    names = [f"gunj-fn-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    path = tmp_path / "clusters.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "prod": {
                    "kubeconfig": str(local_stack.kubeconfig),
                    "context": current_context_of(local_stack.kubeconfig),
                    "namespaces": [namespace],
                    "serviceAccount": ACCOUNT,
                }
            }
        )
    )
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)
    monkeypatch.setenv("GUNJ_CLUSTERS", str(path))
    controllers = [f"--controller=ServiceAccount:{namespace}/{name}" for name in names]
    assert main(["clusters", "rbac", "prod", namespace, *controllers]) == 0
    printed = capsys.readouterr().out
    subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(local_stack.kubeconfig),
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
        ],
        input=printed,
        text=True,
        check=True,
        capture_output=True,
    )
    yield [f"system:serviceaccount:{namespace}:{name}" for name in names]
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    for document in yaml.safe_load_all(printed):
        if document["kind"] == "ClusterRoleBinding":
            rbac.delete_cluster_role_binding(document["metadata"]["name"])


def test_every_named_identity_may_act_as_the_namespace_account_and_no_other(
    applied: list[str], cluster: ClusterAccess, namespace: str
) -> None:
    impersonate = client.V1ResourceAttributes(
        namespace=namespace, verb="impersonate", resource="serviceaccounts", name=ACCOUNT
    )
    other_account = client.V1ResourceAttributes(
        namespace=namespace, verb="impersonate", resource="serviceaccounts", name="default"
    )
    list_platforms = client.V1ResourceAttributes(
        verb="list", group="observability.io", resource="observabilityplatforms"
    )
    stranger = f"system:serviceaccount:{namespace}:not-gunj"

    for user in applied:
        assert allowed(cluster, user, impersonate), user
        assert allowed(cluster, user, list_platforms), user
        assert not allowed(cluster, user, other_account), user
    assert not allowed(cluster, stranger, impersonate)
    assert not allowed(cluster, stranger, list_platforms)

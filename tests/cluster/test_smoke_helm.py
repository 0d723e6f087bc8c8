"""The environment is real: Helm installs the test charts into the local cluster, waits for
Ready pods, runs Helm tests that pass or fail, and keeps revision history across upgrade and
rollback. Each test runs once with Helm 3 and once with Helm 4."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.helm import HelmClient, KubeTarget, ReleaseStatus, ResourceRejected
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.support import RUNNABLE_VALUES, http_chart, latest_version, release_pods_ready

TIMEOUT = timedelta(minutes=2)


@pytest.mark.parametrize("chart", sorted(RUNNABLE_VALUES))
def test_chart_installs_with_ready_pods_and_passing_tests(
    chart: str, helm: HelmClient, local_stack: Stack, namespace: str, cluster: ClusterAccess
) -> None:
    target = KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)
    # The charts' default RBAC includes ClusterRoles named for the release, which outlive the
    # test's namespace: a name of this test's own, so Helm 3's run and Helm 4's do not meet.
    release = f"smoke-{chart}-{namespace[-6:]}"
    version = latest_version(local_stack, chart)

    installed = helm.install(
        release,
        http_chart(local_stack, chart, version),
        target,
        values=RUNNABLE_VALUES[chart],
        timeout=TIMEOUT,
    )

    assert installed.info.status is ReleaseStatus.DEPLOYED
    ready, total = release_pods_ready(cluster, namespace, release)
    assert total > 0
    assert ready == total
    tests = helm.test(release, target, timeout=TIMEOUT)
    assert tests.passed, tests
    assert [outcome.phase for outcome in tests.outcomes] == ["Succeeded"]


def test_version_with_failing_test_fails_helm_test(
    helm: HelmClient, local_stack: Stack, namespace: str
) -> None:
    target = KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)
    helm.install(
        "broken-test",
        http_chart(local_stack, "prometheus", "29.28.0-failing-test"),
        target,
        timeout=TIMEOUT,
    )

    tests = helm.test("broken-test", target, timeout=TIMEOUT)

    assert not tests.passed
    assert [outcome.phase for outcome in tests.outcomes] == ["Failed"]


def test_version_that_fails_to_install_leaves_a_failed_release(
    helm: HelmClient, local_stack: Stack, namespace: str
) -> None:
    target = KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)

    with pytest.raises(ResourceRejected, match="is invalid"):
        helm.install(
            "broken-install",
            http_chart(local_stack, "prometheus", "29.28.0-failing-install"),
            target,
            timeout=TIMEOUT,
        )

    assert helm.status("broken-install", target).info.status is ReleaseStatus.FAILED


def test_install_upgrade_rollback_gives_three_revisions(
    helm: HelmClient, local_stack: Stack, namespace: str
) -> None:
    target = KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)
    helm.install("history", http_chart(local_stack, "tempo", "2.2.3"), target, timeout=TIMEOUT)
    helm.upgrade("history", http_chart(local_stack, "tempo", "2.2.4"), target, timeout=TIMEOUT)
    helm.rollback("history", 1, target, timeout=TIMEOUT)

    history = helm.history("history", target)

    assert [(r.revision, r.chart_version, r.status) for r in history] == [
        (1, "2.2.3", ReleaseStatus.SUPERSEDED),
        (2, "2.2.4", ReleaseStatus.SUPERSEDED),
        (3, "2.2.3", ReleaseStatus.DEPLOYED),
    ]
    assert helm.metadata("history", target).app_version == "2.10.7"

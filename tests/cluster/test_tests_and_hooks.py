"""Helm tests report each pod's outcome and leave no pods behind; hooks are listed with their
phases, skipped when the spec turns them off, and given the spec's time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.engine.budget import operation_budget
from shared.helm import HelmClient, HelmTimeout, KubeTarget, ReleaseStatus
from shared.helm.hooks import release_hooks
from shared.helm.release_tests import ReleaseTester
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from shared.values.spec import TempoSpec
from tests.support import http_chart

TIMEOUT = timedelta(minutes=2)


@pytest.fixture
def target(local_stack: Stack, namespace: str) -> KubeTarget:
    return KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)


def test_a_chart_without_tests_is_not_a_passed_run(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, cluster: ClusterAccess
) -> None:
    # 29.26.0 ships no test templates, as the real prometheus 29.x charts.
    helm.install(
        "untested", http_chart(local_stack, "prometheus", "29.26.0"), target, timeout=TIMEOUT
    )

    report = ReleaseTester(helm, cluster).run("untested", target, TIMEOUT)

    assert report.outcomes == ()
    assert report.passed is False
    assert report.summary() == "no tests"


@pytest.mark.parametrize(
    ("version", "passed", "phase"),
    [("29.27.0", True, "Succeeded"), ("29.28.0-failing-test", False, "Failed")],
)
def test_tests_report_each_pod_and_clean_up(
    version: str,
    passed: bool,
    phase: str,
    helm: HelmClient,
    local_stack: Stack,
    target: KubeTarget,
    cluster: ClusterAccess,
) -> None:
    helm.install("tested", http_chart(local_stack, "prometheus", version), target, timeout=TIMEOUT)

    report = ReleaseTester(helm, cluster).run("tested", target, TIMEOUT)

    assert report.passed is passed
    assert [(o.name, o.phase) for o in report.outcomes] == [
        ("tested-prometheus-server-test", phase)
    ]
    assert report.cleaned_up == ("tested-prometheus-server-test",)
    assert [
        p.metadata.name for p in cluster.pods(target.namespace, "app.kubernetes.io/component=test")
    ] == []
    assert report.summary() == (
        "1 test(s) passed" if passed else "1 of 1 test(s) failed: tested-prometheus-server-test"
    )


def test_hooks_are_listed_with_their_phase(
    helm: HelmClient, local_stack: Stack, target: KubeTarget
) -> None:
    helm.install(
        "hooked-tempo",
        http_chart(local_stack, "tempo", "2.2.4"),
        target,
        values={"testHooks": {"job": True}},
        timeout=TIMEOUT,
    )

    hooks = release_hooks(helm.status("hooked-tempo", target))

    assert [(h.name, h.kind, h.events, h.phase) for h in hooks] == [
        ("hooked-tempo-migrate", "Job", ("pre-install", "pre-upgrade"), "Succeeded"),
        ("hooked-tempo-test", "Pod", ("test",), ""),
    ]
    assert [h.name for h in hooks if h.is_test] == ["hooked-tempo-test"]


def test_spec_without_hooks_skips_them(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, cluster: ClusterAccess
) -> None:
    options = operation_budget(TempoSpec.model_validate({"hooks": {"enabled": False}}))

    helm.install(
        "unhooked-tempo",
        http_chart(local_stack, "tempo", "2.2.4"),
        target,
        values={"testHooks": {"stuck": True}},
        no_hooks=options.no_hooks,
        timeout=options.timeout,
    )

    assert options.no_hooks
    assert helm.status("unhooked-tempo", target).info.status is ReleaseStatus.DEPLOYED
    assert [
        p.metadata.name
        for p in cluster.pods(target.namespace)
        if p.metadata.name.endswith("stuck-hook")
    ] == []


def test_hook_that_never_completes_times_out_after_the_hook_timeout(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, cluster: ClusterAccess
) -> None:
    options = operation_budget(
        TempoSpec.model_validate({"timeout": "2s", "hooks": {"timeout": "4s"}})
    )

    with pytest.raises(HelmTimeout):
        helm.install(
            "stuck-tempo",
            http_chart(local_stack, "tempo", "2.2.4"),
            target,
            values={"testHooks": {"stuck": True}},
            no_hooks=options.no_hooks,
            timeout=options.timeout,
        )

    assert options.timeout == timedelta(seconds=4)
    assert [p.metadata.name for p in cluster.pods(target.namespace)] == ["stuck-tempo-stuck-hook"]
    assert helm.status("stuck-tempo", target).info.status is ReleaseStatus.FAILED

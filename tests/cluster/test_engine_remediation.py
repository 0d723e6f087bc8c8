"""Remediation on the local cluster, with Helm 3 and Helm 4: a version whose Helm test fails,
one gunj's probe fails, one that cannot be installed and one that fails as an upgrade are each
remediated within the spec's retries, and then stall for that spec instead of being tried again
on every event. Helm tests that cannot run at all are no verdict, and remediate nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from kubernetes import client

from shared.helm.releases import ReleaseState
from shared.kube import ClusterAccess
from shared.kube.errors import ApiError
from tests.engine_support import SMALL_PROMETHEUS, Engine, platform


def test_a_version_whose_helm_test_fails_is_rolled_back_and_not_tried_again(
    engine: Engine, namespace: str
) -> None:
    assert engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS)).result == "ready"
    bad = platform(
        namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "chartVersion": "29.28.0-failing-test",
            "remediation": {"retries": 0},
        },
    )

    outcome = engine.apply(bad)

    assert outcome.result == "stalled", outcome
    assert outcome.components[0].actions == ("upgrade", "verify failed", "rollback", "verify")
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (3, "29.27.0")
    record = engine.status(namespace).components["prometheus"]
    assert (record.state, record.revision, record.last_good_revision) == ("Stalled", 3, 3)
    assert "Helm tests: 1 of 1 test(s) failed" in record.message
    assert "not tried again until the spec changes" in record.message
    conditions = {c.type: c for c in engine.status(namespace).conditions}
    assert conditions["Stalled"].status == "True"
    assert (conditions["Remediated"].status, conditions["Remediated"].reason) == (
        "True",
        "RollbackSucceeded",
    )
    events = engine.events(namespace)
    assert ("Warning", "VerifyFailed") in {(kind, reason) for kind, reason, _ in events}
    assert ("Warning", "Rollback") in {(kind, reason) for kind, reason, _ in events}
    engine.helm_runs()

    again = engine.apply(bad)

    assert again.result == "stalled"
    assert again.components[0].actions == ()
    assert engine.helm_runs() == []
    assert engine.release(namespace, "obs-prometheus").revision == 3


def test_a_chart_without_helm_tests_is_verified_by_gunjs_probe_passing_and_failing(
    engine: Engine, namespace: str
) -> None:
    good = platform(namespace, tempo={"chartVersion": "2.2.3"})  # packaged without tests
    assert engine.apply(good).result == "ready"
    record = engine.status(namespace).components["tempo"]
    assert "probe of http://obs-tempo." in record.tests and "passed" in record.tests
    assert "no Helm tests in the chart" in record.tests

    bad = platform(
        namespace, tempo={"chartVersion": "2.3.0-failing-probe", "remediation": {"retries": 0}}
    )
    outcome = engine.apply(bad)

    assert outcome.result == "stalled", outcome
    assert outcome.components[0].actions == ("upgrade", "verify failed", "rollback", "verify")
    record = engine.status(namespace).components["tempo"]
    assert record.chart_version == "2.2.3"
    assert "probe of http://obs-tempo." in record.last_failure
    assert "failed" in record.last_failure


def test_a_first_install_that_fails_is_uninstalled_and_retried_within_its_retries(
    engine: Engine, namespace: str
) -> None:
    bad = platform(
        namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "chartVersion": "29.28.0-failing-install",
            "remediation": {"retries": 1},
        },
    )

    outcome = engine.apply(bad)

    assert outcome.result == "failed", outcome
    assert outcome.components[0].actions == (
        "install failed",
        "uninstall",
        "install failed",
        "uninstall",
    )
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    status = engine.status(namespace)
    assert status.phase == "Failed"
    assert status.components["prometheus"].failures == 2
    assert "is invalid" in status.components["prometheus"].last_failure
    engine.helm_runs()

    assert engine.apply(bad).result == "failed"
    assert engine.helm_runs() == []


def test_an_upgrade_that_fails_is_rolled_back_to_the_last_good_revision(
    engine: Engine, namespace: str
) -> None:
    assert engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS)).result == "ready"
    bad = platform(
        namespace,
        prometheus={
            **SMALL_PROMETHEUS,
            "chartVersion": "29.28.0-failing-install",
            "remediation": {"retries": 0},
        },
    )

    outcome = engine.apply(bad)

    assert outcome.result == "stalled", outcome
    assert outcome.components[0].actions == ("upgrade failed", "rollback", "verify")
    release = engine.release(namespace, "obs-prometheus")
    assert (release.state, release.revision, release.chart_version) == (
        ReleaseState.DEPLOYED,
        3,
        "29.27.0",
    )
    assert engine.status(namespace).phase == "Degraded"


@contextmanager
def helm_tests_refused(access: ClusterAccess, namespace: str) -> Iterator[None]:
    """An admission policy that refuses Helm test pods in ``namespace`` (and nothing else): the
    chart's tests cannot run there, whatever the release is like."""
    api = client.AdmissionregistrationV1Api(access.api)
    name = f"no-helm-tests-{namespace}"[:63]
    api.create_validating_admission_policy(
        {
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["pods"],
                        }
                    ]
                },
                "validations": [
                    {
                        "expression": "!has(object.metadata.annotations) || "
                        "!('helm.sh/hook' in object.metadata.annotations) || "
                        "object.metadata.annotations['helm.sh/hook'] != 'test'",
                        "message": "Helm test pods are not allowed here",
                    }
                ],
            },
        }
    )
    api.create_validating_admission_policy_binding(
        {
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                },
            },
        }
    )
    try:
        _wait_until_refused(access, namespace)
        yield
    finally:
        api.delete_validating_admission_policy_binding(name)
        api.delete_validating_admission_policy(name)


def _wait_until_refused(access: ClusterAccess, namespace: str) -> None:
    # The API server takes a policy up a moment after it is created.
    pod = {
        "metadata": {"name": "probe-of-the-policy", "annotations": {"helm.sh/hook": "test"}},
        "spec": {"containers": [{"name": "x", "image": "x"}]},
    }
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            access.core.create_namespaced_pod(namespace, pod, dry_run="All")
        except ApiError as error:
            if error.status in {403, 422}:
                return
            raise
        time.sleep(0.5)
    raise AssertionError("the admission policy never took effect")


def test_helm_tests_that_cannot_run_are_reported_and_nothing_is_rolled_back(
    engine: Engine, namespace: str
) -> None:
    # 29.27.0 carries a Helm test, which the API server refuses to create here: no verdict on
    # the release, which gunj's own checks find ready.
    with helm_tests_refused(engine.access, namespace):
        outcome = engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS))

        assert outcome.result == "ready", outcome
        assert outcome.components[0].actions == ("install", "verify")
        record = engine.status(namespace).components["prometheus"]
        assert "Helm tests could not run" in record.tests, record.tests
        assert "Helm test pods are not allowed here" in record.tests, record.tests
        assert (record.failures, record.last_good_revision) == (0, 1)
        reasons = [reason for _, reason, _ in engine.events(namespace)]
        assert "VerifyFailed" not in reasons and "Rollback" not in reasons
        release = engine.release(namespace, "obs-prometheus")
        assert (release.state, release.revision) == (ReleaseState.DEPLOYED, 1)

        # Verified once: the next event finds the component in sync, and runs no Helm.
        engine.helm_runs()
        again = engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS))
        assert (again.result, again.components[0].actions) == ("ready", ())
        assert engine.helm_runs() == []

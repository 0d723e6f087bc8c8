"""Remediation on the local cluster, with Helm 3 and Helm 4: a version whose Helm test fails,
one gunj's probe fails, one that cannot be installed and one that fails as an upgrade are each
remediated within the spec's retries, and then stall for that spec instead of being tried again
on every event."""

from __future__ import annotations

from shared.helm.releases import ReleaseState
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

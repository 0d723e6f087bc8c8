"""Release state read from Helm's storage: absent, deployed (tested or not), failed, locked;
the last good revision; and a release left pending by a Helm process that was killed."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from shared.helm import HelmClient, KubeTarget, ReleaseLocked, ReleaseStatus
from shared.helm.release_tests import ReleaseTester
from shared.helm.releases import ReleaseState, ReleaseStore
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.support import http_chart

TIMEOUT = timedelta(minutes=2)


@pytest.fixture
def target(local_stack: Stack, namespace: str) -> KubeTarget:
    return KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)


def test_state_follows_installs_tests_failures_and_rollbacks(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, cluster: ClusterAccess
) -> None:
    store, tester = ReleaseStore(cluster), ReleaseTester(helm, cluster)

    def observe():  # type: ignore[no-untyped-def]
        return store.observe("prom", target.namespace)

    assert observe().state is ReleaseState.ABSENT

    helm.install("prom", http_chart(local_stack, "prometheus", "29.27.0"), target, timeout=TIMEOUT)
    installed = observe()
    assert (installed.state, installed.revision, installed.tested) == (
        ReleaseState.DEPLOYED,
        1,
        False,
    )
    assert installed.has_tests and installed.last_good_revision is None

    assert tester.run("prom", target, TIMEOUT).passed
    assert (observe().tested, observe().last_good_revision) == (True, 1)

    helm.upgrade(
        "prom",
        http_chart(local_stack, "prometheus", "29.28.0-failing-test"),
        target,
        timeout=TIMEOUT,
    )
    assert not tester.run("prom", target, TIMEOUT).passed  # 29.28.0-failing-test's test fails
    upgraded = observe()
    assert (upgraded.revision, upgraded.tested, upgraded.last_good_revision) == (2, False, 1)

    with pytest.raises(Exception):  # noqa: B017 - 29.28.0-failing-install cannot be installed
        helm.upgrade(
            "prom",
            http_chart(local_stack, "prometheus", "29.28.0-failing-install"),
            target,
            timeout=TIMEOUT,
        )
    failed = observe()
    assert (failed.state, failed.revision, failed.last_good_revision) == (ReleaseState.FAILED, 3, 1)

    helm.rollback("prom", 1, target, timeout=TIMEOUT)
    restored = observe()
    # The rollback carries revision 1's old test run, which does not count for revision 4.
    assert (restored.state, restored.revision, restored.chart_version) == (
        ReleaseState.DEPLOYED,
        4,
        "29.27.0",
    )
    assert (restored.tested, restored.last_good_revision) == (False, 1)


def test_failed_first_install_is_recognised(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, cluster: ClusterAccess
) -> None:
    with pytest.raises(Exception):  # noqa: B017 - 29.28.0-failing-install cannot be installed
        helm.install(
            "first",
            http_chart(local_stack, "prometheus", "29.28.0-failing-install"),
            target,
            timeout=TIMEOUT,
        )

    observed = ReleaseStore(cluster).observe("first", target.namespace)

    assert (observed.state, observed.first_install, observed.last_good_revision) == (
        ReleaseState.FAILED,
        True,
        None,
    )


def _start_stuck_upgrade(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, folder: Path
) -> subprocess.Popen[bytes]:
    """An upgrade that waits on a pre-upgrade hook which never completes (before it touches any
    resource, so what is left behind is the lock alone)."""
    values = folder / "values.yaml"
    values.write_text(yaml.safe_dump({"testHooks": {"stuck": True}}))
    chart = http_chart(local_stack, "tempo", "2.2.4")
    command = [
        str(helm.binary.path),
        "upgrade",
        "locked-tempo",
        *chart.as_arguments(),
        *target.flags(),
        "--timeout",
        "10m",
        *helm.binary.wait_flags(True),
        "--values",
        str(values),
    ]
    return subprocess.Popen(
        command, env=helm.environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_pending_upgrade_of_a_killed_helm_is_detected_and_unlocked(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, cluster: ClusterAccess, tmp_path: Path
) -> None:
    store = ReleaseStore(cluster)
    chart = http_chart(local_stack, "tempo", "2.2.4")
    helm.install("locked-tempo", chart, target, timeout=TIMEOUT)
    process = _start_stuck_upgrade(helm, local_stack, target, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while store.observe("locked-tempo", target.namespace).state is not ReleaseState.LOCKED:
            assert time.monotonic() < deadline, "the upgrade never became pending"
            time.sleep(0.2)
    finally:
        process.kill()  # as when a function instance is torn down mid-upgrade
        process.wait()

    stuck = store.observe("locked-tempo", target.namespace)
    assert (stuck.status, stuck.revision) == (ReleaseStatus.PENDING_UPGRADE, 2)
    assert stuck.locked_for is not None
    with pytest.raises(ReleaseLocked) as locked:
        helm.upgrade("locked-tempo", chart, target, timeout=TIMEOUT)
    assert locked.value.transient

    assert store.unlock("locked-tempo", target.namespace, older_than=timedelta(hours=1)) is None
    assert store.unlock("locked-tempo", target.namespace, older_than=timedelta(0)) is not None

    unlocked = store.observe("locked-tempo", target.namespace)
    assert (unlocked.state, unlocked.revision) == (ReleaseState.FAILED, 2)
    assert "marked failed" in helm.history("locked-tempo", target)[-1].description
    helm.upgrade("locked-tempo", chart, target, timeout=TIMEOUT)
    assert [r.status for r in helm.history("locked-tempo", target)] == [
        ReleaseStatus.SUPERSEDED,
        ReleaseStatus.FAILED,
        ReleaseStatus.DEPLOYED,
    ]

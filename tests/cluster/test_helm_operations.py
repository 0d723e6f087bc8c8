"""Every Helm operation against the local cluster, once with Helm 3 and once with Helm 4: what it
does, what it records, and the typed error it raises when it cannot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from shared.helm import (
    ChartNotFound,
    HelmClient,
    HelmTimeout,
    KubeTarget,
    ReleaseNotFound,
    ReleaseStatus,
    RenderError,
)
from shared.helm.charts import ChartLibrary, ChartSource
from shared.helm.digest import content_digest
from shared.helm.releases import DIGEST_LABEL, ReleaseState, ReleaseStore
from shared.helm.repositories import RepositorySettings, known_repositories
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from tests.support import http_chart

TIMEOUT = timedelta(minutes=2)
TEMPO = ChartSource(known_repositories()["grafana-community"].url, "tempo")


@pytest.fixture
def target(local_stack: Stack, namespace: str) -> KubeTarget:
    return KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)


@pytest.fixture
def library(local_stack: Stack, tmp_path: Path) -> ChartLibrary:
    return ChartLibrary(RepositorySettings.from_environment(local_stack.environment()), tmp_path)


def test_install_from_the_cache_stamps_the_digest_of_what_it_holds(
    helm: HelmClient, library: ChartLibrary, target: KubeTarget, cluster: ClusterAccess
) -> None:
    values = {"tempo": {"retention": "48h"}}
    pulled = library.pull(TEMPO, "2.2.4")
    digest = content_digest(TEMPO.chart, "2.2.4", values)

    helm.install(
        "stamped",
        pulled.reference(),
        target,
        values=values,
        timeout=TIMEOUT,
        labels={DIGEST_LABEL: digest},
    )

    observed = ReleaseStore(cluster).observe("stamped", target.namespace)
    assert (observed.state, observed.desired_digest) == (ReleaseState.DEPLOYED, digest)
    # What storage really holds digests the same: the label is not needed to prove it.
    assert observed.content_digest == digest
    assert (observed.chart_version, observed.app_version) == ("2.2.4", "2.10.8")
    assert helm.get_values("stamped", target) == values


def test_upgrade_replaces_values_and_keeps_the_stamp_current(
    helm: HelmClient, library: ChartLibrary, target: KubeTarget, cluster: ClusterAccess
) -> None:
    chart = library.pull(TEMPO, "2.2.4").reference()
    helm.install(
        "vals",
        chart,
        target,
        values={"tempo": {"retention": "48h"}, "replicas": 1},
        labels={DIGEST_LABEL: "a" * 48},
        timeout=TIMEOUT,
    )

    helm.upgrade(
        "vals",
        chart,
        target,
        values={"tempo": {"retention": "72h"}},
        labels={DIGEST_LABEL: "b" * 48},
        timeout=TIMEOUT,
    )

    assert helm.get_values("vals", target) == {"tempo": {"retention": "72h"}}
    assert "block_retention: 72h" in helm.get_manifest("vals", target)
    assert ReleaseStore(cluster).observe("vals", target.namespace).desired_digest == "b" * 48
    assert [r.revision for r in helm.history("vals", target)] == [1, 2]


def test_uninstall_removes_the_release(
    helm: HelmClient, local_stack: Stack, target: KubeTarget, cluster: ClusterAccess
) -> None:
    helm.install("gone", http_chart(local_stack, "grafana", "12.11.1"), target, timeout=TIMEOUT)

    helm.uninstall("gone", target, timeout=TIMEOUT)

    assert ReleaseStore(cluster).observe("gone", target.namespace).state is ReleaseState.ABSENT
    assert [r.name for r in helm.list_releases(target)] == []
    with pytest.raises(ReleaseNotFound):
        helm.status("gone", target)


def test_list_shows_every_state(helm: HelmClient, local_stack: Stack, target: KubeTarget) -> None:
    helm.install("ok", http_chart(local_stack, "tempo", "2.2.4"), target, timeout=TIMEOUT)
    with pytest.raises(Exception):  # noqa: B017 - the install-fails version; its type is tested elsewhere
        helm.install(
            "bad",
            http_chart(local_stack, "prometheus", "29.28.0-failing-install"),
            target,
            timeout=TIMEOUT,
        )

    listed = {(r.name, r.status) for r in helm.list_releases(target)}

    assert listed == {("ok", ReleaseStatus.DEPLOYED), ("bad", ReleaseStatus.FAILED)}


def test_template_renders_offline_with_values(helm: HelmClient, library: ChartLibrary) -> None:
    chart = library.pull(TEMPO, "2.2.4").reference()

    rendered = helm.template(
        "offline-tempo", chart, "somewhere", values={"tempo": {"retention": "5h"}}
    )

    config = next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "ConfigMap")
    assert "block_retention: 5h" in config["data"]["tempo.yaml"]
    assert config["metadata"]["name"] == "offline-tempo"


def test_errors_are_typed(helm: HelmClient, local_stack: Stack, target: KubeTarget) -> None:
    with pytest.raises(ReleaseNotFound) as not_found:
        helm.history("never-installed", target)
    assert not not_found.value.transient

    with pytest.raises(ChartNotFound):
        helm.install("no-chart", http_chart(local_stack, "tempo", "9.9.9"), target, timeout=TIMEOUT)

    # Loki's defaults do not render (object storage without buckets), as upstream's.
    with pytest.raises(RenderError, match=r"bucketNames\.chunks"):
        helm.install(
            "loki-defaults", http_chart(local_stack, "loki", "18.11.0"), target, timeout=TIMEOUT
        )
    with pytest.raises(ReleaseNotFound):
        helm.status("loki-defaults", target)  # nothing was recorded


def test_pods_that_never_become_ready_time_out(
    helm: HelmClient, local_stack: Stack, target: KubeTarget
) -> None:
    values = {"server": {"podAnnotations": {"gunj.io/never-ready": "true"}}}

    with pytest.raises(HelmTimeout) as raised:
        helm.install(
            "slow",
            http_chart(local_stack, "prometheus", "29.27.0"),
            target,
            values=values,
            timeout=timedelta(seconds=5),
        )

    assert raised.value.transient
    assert helm.status("slow", target).info.status is ReleaseStatus.FAILED


def test_rollback_on_failure_restores_the_previous_revision(
    helm: HelmClient, local_stack: Stack, target: KubeTarget
) -> None:
    helm.install(
        "atomic", http_chart(local_stack, "prometheus", "29.27.0"), target, timeout=TIMEOUT
    )

    with pytest.raises(Exception):  # noqa: B017 - any failure; what matters is what is left
        helm.upgrade(
            "atomic",
            http_chart(local_stack, "prometheus", "29.28.0-failing-install"),
            target,
            timeout=TIMEOUT,
            rollback_on_failure=True,
        )

    history = helm.history("atomic", target)
    assert history[-1].status is ReleaseStatus.DEPLOYED
    assert history[-1].chart_version == "29.27.0"

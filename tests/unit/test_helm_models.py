"""Parsing what Helm reports, and building the arguments Helm is called with."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest

from shared.helm import ChartReference, KubeTarget, ReleaseStatus, Revision
from shared.helm.client import ChangeKeywords, ChangeOptions
from shared.helm.models import Release
from shared.helm.process import go_duration
from shared.redaction import scrub


@pytest.mark.parametrize(
    ("chart", "version"),
    [
        ("prometheus-29.27.0", "29.27.0"),
        ("kube-state-metrics-5.30.1", "5.30.1"),
        ("grafana-13.0.0-beta.1", "13.0.0-beta.1"),
        ("tempo-distributed-1.2.3-rc.1+build.5", "1.2.3-rc.1+build.5"),
    ],
)
def test_history_entry_splits_chart_name_and_version(chart: str, version: str) -> None:
    revision = Revision.model_validate(
        {"revision": 1, "updated": "2026-11-24T06:10:13Z", "status": "deployed", "chart": chart}
    )

    assert revision.chart_version == version


def test_helm3_empty_hook_times_parse_as_absent() -> None:
    release = Release.model_validate(
        {
            "name": "r",
            "namespace": "n",
            "version": 2,
            "info": {"status": "pending-upgrade", "first_deployed": "", "last_deployed": ""},
            "hooks": [
                {
                    "name": "t",
                    "kind": "Pod",
                    "events": ["test"],
                    "last_run": {"started_at": "", "completed_at": "", "phase": ""},
                }
            ],
        }
    )

    assert release.info.status.pending
    assert release.test_hooks[0].last_run.started_at is None


def test_chart_reference_arguments_per_source() -> None:
    http = ChartReference(
        name="loki", version="18.11.0", repository="https://charts.example/grafana"
    )
    oci = ChartReference(
        name="loki", version="18.11.0", repository="oci://ghcr.io/grafana-community/helm-charts/"
    )
    local = ChartReference(name="loki", version="18.11.0", path=Path("/cache/loki-18.11.0.tgz"))

    assert http.as_arguments() == [
        "loki",
        "--repo",
        "https://charts.example/grafana",
        "--version",
        "18.11.0",
    ]
    assert oci.as_arguments() == [
        "oci://ghcr.io/grafana-community/helm-charts/loki",
        "--version",
        "18.11.0",
    ]
    assert local.as_arguments() == ["/cache/loki-18.11.0.tgz"]
    with pytest.raises(ValueError, match="give a repository or a path"):
        ChartReference(name="loki").as_arguments()


def test_target_flags_name_everything_explicitly() -> None:
    target = KubeTarget(namespace="obs", kubeconfig=Path("/k/config"), context="prod")

    assert target.flags() == [
        "--namespace",
        "obs",
        "--kubeconfig",
        "/k/config",
        "--kube-context",
        "prod",
    ]


def test_durations_are_real_go_durations() -> None:
    assert go_duration(timedelta(minutes=5)) == "300000ms"
    assert go_duration(timedelta(milliseconds=1500)) == "1500ms"
    with pytest.raises(ValueError, match="must be positive"):
        go_duration(timedelta(0))


def test_install_and_upgrade_take_every_change_option_by_keyword() -> None:
    assert ChangeKeywords.__optional_keys__ == {option.name for option in fields(ChangeOptions)}


def test_scrub_hides_every_secret_including_overlapping_ones() -> None:
    text = "auth failed for token abc123 (prefix abc)"

    assert scrub(text, ["abc", "abc123", ""]) == "auth failed for token *** (prefix ***)"


def test_release_status_knows_pending_states() -> None:
    assert [s.value for s in ReleaseStatus if s.pending] == [
        "pending-install",
        "pending-upgrade",
        "pending-rollback",
    ]

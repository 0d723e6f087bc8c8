"""kwok Stages: how fake nodes and pods move through their lifecycle in the local cluster.

Passing any Stage to kwokctl replaces all of its defaults, so the cluster gets kwok's own default
stages (taken from the pinned kwok module when kwok is built) plus the project's: a Helm test pod
(annotation ``helm.sh/hook: test``) succeeds once Running, or fails when it also carries
``gunj.io/test-result: fail``; gunj's verification probe pod (label ``gunj.io/probe``) succeeds
once Running, or fails when its ``gunj.io/chart`` label names a chart version the catalogue gives
the ``probe-fails`` behaviour. Pods that never become Ready are asked for with
``gunj.io/never-ready: "true"``; kwok's pod-ready stage skips them. A pod annotated
``gunj.io/ready-after: "20s"`` becomes Ready that long after it is created (a slow start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from . import chartrepo, pins

TEST_RESULT_ANNOTATION = "gunj.io/test-result"
PROBE_LABEL = "gunj.io/probe"
CHART_LABEL = "gunj.io/chart"
NEVER_READY_ANNOTATION = "gunj.io/never-ready"
READY_AFTER_ANNOTATION = "gunj.io/ready-after"


def _terminated_status(phase: str, exit_code: int, reason: str) -> str:
    return f"""\
{{{{ $now := Now }}}}
conditions:
- lastTransitionTime: {{{{ $now | Quote }}}}
  status: "False"
  type: Ready
- lastTransitionTime: {{{{ $now | Quote }}}}
  status: "False"
  type: ContainersReady
containerStatuses:
{{{{ range .spec.containers }}}}
- image: {{{{ .image | Quote }}}}
  name: {{{{ .name | Quote }}}}
  ready: false
  restartCount: 0
  started: false
  state:
    terminated:
      exitCode: {exit_code}
      finishedAt: {{{{ $now | Quote }}}}
      reason: {reason}
      startedAt: {{{{ $now | Quote }}}}
{{{{ end }}}}
phase: {phase}
"""


def _running_pod_stage(name: str, expressions: list[dict[str, Any]], status: str) -> dict[str, Any]:
    """A Stage that ends a running pod, not being deleted, which also matches ``expressions``."""
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": name},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": {
                "matchExpressions": [
                    {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                    {"key": ".status.phase", "operator": "In", "values": ["Running"]},
                    *expressions,
                ],
            },
            "next": {"statusTemplate": status},
        },
    }


def _helm_test_stage(name: str, outcome_operator: str, status: str) -> dict[str, Any]:
    return _running_pod_stage(
        name,
        [
            {
                "key": '.metadata.annotations["helm.sh/hook"]',
                "operator": "In",
                "values": ["test", "test-success"],
            },
            {
                "key": f'.metadata.annotations["{TEST_RESULT_ANNOTATION}"]',
                "operator": outcome_operator,
                "values": ["fail"],
            },
        ],
        status,
    )


def _probe_stage(
    name: str, outcome_operator: str, failing: list[str], status: str
) -> dict[str, Any]:
    return _running_pod_stage(
        name,
        [
            {"key": f'.metadata.labels["{PROBE_LABEL}"]', "operator": "In", "values": ["true"]},
            {
                "key": f'.metadata.labels["{CHART_LABEL}"]',
                "operator": outcome_operator,
                # An empty list would select nothing with In and everything with NotIn.
                "values": failing or ["-"],
            },
        ],
        status,
    )


def failing_probe_charts(sources: Path | None = None) -> list[str]:
    """``<chart>-<version>`` of every catalogue version whose probe fails."""
    folder = sources or chartrepo.default_sources()
    catalogue = chartrepo.Catalogue.load(folder / "catalogue.yaml")
    return sorted(
        f"{chart.name}-{version.version}"
        for chart in catalogue.charts
        for version in chart.versions
        if version.behaviour == "probe-fails"
    )


def project_stages(failing_probes: list[str]) -> list[dict[str, Any]]:
    succeeded = _terminated_status("Succeeded", 0, "Completed")
    failed = _terminated_status("Failed", 1, "Error")
    return [
        _helm_test_stage("helm-test-succeed", "NotIn", succeeded),
        _helm_test_stage("helm-test-fail", "In", failed),
        _probe_stage("gunj-probe-succeed", "NotIn", failing_probes, succeeded),
        _probe_stage("gunj-probe-fail", "In", failing_probes, failed),
    ]


def _skip_never_ready(stage: dict[str, Any]) -> dict[str, Any]:
    if stage["metadata"]["name"] == "pod-ready":
        stage["spec"]["selector"]["matchExpressions"].append(
            {
                "key": f'.metadata.annotations["{NEVER_READY_ANNOTATION}"]',
                "operator": "NotIn",
                "values": ["true"],
            }
        )
        # No annotation: no delay (kwok falls back to durationMilliseconds).
        stage["spec"]["delay"] = {
            "durationMilliseconds": 0,
            "durationFrom": {
                "jq": {"expression": f'.metadata.annotations["{READY_AFTER_ANNOTATION}"]'}
            },
        }
    return stage


def kwok_default_stages(kwok_folder: Path) -> list[dict[str, Any]]:
    """kwok's defaults, as kwokctl installs them when no Stage is given (copied at build)."""
    return [
        _skip_never_ready(yaml.safe_load((kwok_folder / relative).read_text()))
        for _, relative in pins.KWOK.module_files
    ]


def all_stages(kwok_folder: Path) -> list[dict[str, Any]]:
    return kwok_default_stages(kwok_folder) + project_stages(failing_probe_charts())

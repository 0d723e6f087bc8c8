"""The Grafana dashboard gunj ships for its own metrics, provisioned into a platform's Grafana
on the local cluster: the spec turns on Grafana's dashboards sidecar and carries the dashboard
as a ConfigMap with the sidecar's label (``config.extraObjects``, on a cluster that allows no
templates: the dashboard holds no ``{{``); after the reconcile the ConfigMap holds the
dashboard unchanged, the sidecar's provisioning selects it, and Grafana's identity may read it
under the cluster's real RBAC."""

from __future__ import annotations

import json

import yaml
from kubernetes import client

from shared.telemetry.dashboards import GUNJ
from tests.engine_support import Engine, platform

LABEL = "grafana_dashboard"


def test_the_platforms_grafana_provisions_gunjs_dashboard(
    engine_helm3: Engine, namespace: str
) -> None:
    dashboard = GUNJ.read_text()
    carried = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "gunj-dashboard", "labels": {LABEL: "1"}},
        "data": {"gunj.json": dashboard},
    }
    spec = platform(
        namespace,
        grafana={
            "dashboards": {"sidecar": {"enabled": True, "label": LABEL, "labelValue": "1"}},
            "config": {"extraObjects": [carried]},
        },
    )

    outcome = engine_helm3.apply(spec)

    assert outcome.result == "ready", outcome
    core = client.CoreV1Api(engine_helm3.access.api)
    config = core.read_namespaced_config_map("obs-grafana", namespace).data or {}
    provisioning = yaml.safe_load(config["dashboard-sidecar.yaml"])
    assert provisioning == {"label": LABEL, "labelValue": "1"}
    selected = core.list_namespaced_config_map(
        namespace, label_selector=f"{provisioning['label']}={provisioning['labelValue']}"
    ).items
    assert [c.metadata.name for c in selected if c.metadata] == ["gunj-dashboard"]
    assert json.loads((selected[0].data or {})["gunj.json"]) == json.loads(dashboard)
    # Grafana's identity (whose sidecar loads the dashboards) may list and read them there.
    authorization = client.AuthorizationV1Api(engine_helm3.access.api)
    for verb in ("list", "watch", "get"):
        review = authorization.create_subject_access_review(
            client.V1SubjectAccessReview(
                spec=client.V1SubjectAccessReviewSpec(
                    user=f"system:serviceaccount:{namespace}:obs-grafana",
                    resource_attributes=client.V1ResourceAttributes(
                        namespace=namespace, verb=verb, resource="configmaps"
                    ),
                )
            )
        )
        assert review.status is not None and review.status.allowed, (verb, review.status)

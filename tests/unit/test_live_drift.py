"""How the live check reads two versions of an object: where they differ, as a person reads it;
who owns a field (managedFields); which differences are drift (the release's own manager,
nobody, or a person's tool) and which are another controller's; and what an ignore rule
silences."""

from __future__ import annotations

from typing import Any

from shared.engine.live.ignore import DriftSettings, Rule, drift_settings
from shared.engine.live.manifest import parse
from shared.engine.live.owners import is_drift, owners
from shared.engine.live.paths import differences, from_pointer, readable
from shared.kube.keys import ObjectKey
from shared.values.spec.common import ComponentSpec, DriftDetection

LIVE: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "obs-grafana",
        "labels": {"app": "grafana", "injected": "yes"},
        "managedFields": [
            {
                "manager": "helm",
                "operation": "Update",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {
                        "f:template": {
                            "f:spec": {
                                "f:containers": {
                                    'k:{"name":"grafana"}': {".": {}, "f:name": {}, "f:image": {}}
                                }
                            }
                        }
                    },
                },
            },
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "subresource": "scale",
                "fieldsV1": {"f:spec": {"f:replicas": {}}},
            },
            {
                "manager": "kubectl-edit",
                "operation": "Update",
                "fieldsV1": {"f:data": {"f:edited": {}}},
            },
        ],
    },
    "spec": {
        "replicas": 3,
        "template": {"spec": {"containers": [{"name": "grafana", "image": "grafana:11"}]}},
    },
    "status": {"readyReplicas": 3},
}


def applied(**changes: Any) -> dict[str, Any]:
    """What the dry run answers: the live object with the release's fields set again."""
    spec = {
        "replicas": changes.get("replicas", 3),
        "template": {
            "spec": {
                "containers": [{"name": "grafana", "image": changes.get("image", "grafana:11")}]
            }
        },
    }
    return {**LIVE, "spec": spec, "status": {"readyReplicas": 0}}


def test_what_the_dry_run_would_change_is_named_by_path_never_by_value() -> None:
    answer = applied(image="grafana:12", replicas=1)

    found = [readable(p, LIVE, answer) for p in differences(LIVE, answer)]

    assert found == ["spec.replicas", "spec.template.spec.containers[name=grafana].image"]
    assert not any("grafana:12" in path for path in found)


def test_status_and_labels_others_added_are_no_difference() -> None:
    answer = {**applied(), "metadata": {**LIVE["metadata"], "labels": {"app": "grafana"}}}

    assert differences(LIVE, answer) == []


def test_a_label_the_release_sets_that_was_changed_is_a_difference() -> None:
    answer = {**applied(), "metadata": {**LIVE["metadata"], "labels": {"app": "other"}}}

    assert differences(LIVE, answer) == [("metadata", "labels", "app")]


def test_owners_follow_keyed_list_items_and_whole_values() -> None:
    managed = LIVE["metadata"]["managedFields"]
    image = ("spec", "template", "spec", "containers", 0, "image")

    assert owners(managed, image, LIVE) == {"helm"}
    assert owners(managed, ("spec", "replicas"), LIVE) == {"kube-controller-manager"}
    assert owners(managed, ("spec", "minReadySeconds"), LIVE) == set()


def test_a_controllers_field_is_never_drift_a_persons_and_our_own_are() -> None:
    assert not is_drift({"kube-controller-manager"}, "helm")
    assert not is_drift({"istio-sidecar-injector"}, "helm")
    assert is_drift({"helm"}, "helm")
    assert is_drift(set(), "helm")  # removed: nobody holds it any more
    assert is_drift({"kubectl-edit"}, "helm")
    assert is_drift({"kubectl"}, "gunj")


def test_an_ignore_rule_silences_its_path_for_its_kind_and_name_only() -> None:
    rule = Rule(from_pointer("/spec/replicas"), kind="StatefulSet")
    settings = DriftSettings("enabled", (rule,))
    stateful = ObjectKey("apps/v1", "StatefulSet", "obs", "obs-tempo")
    deployment = ObjectKey("apps/v1", "Deployment", "obs", "obs-grafana")

    assert settings.ignored(stateful, ("spec", "replicas"))
    assert not settings.ignored(deployment, ("spec", "replicas"))
    assert not settings.ignored(stateful, ("spec", "template"))


def test_pointers_unescape_as_rfc_6901_says() -> None:
    assert from_pointer("/data/a~1b~0c") == ("data", "a/b~c")


def test_a_components_settings_win_over_the_platforms_and_rules_add_up() -> None:
    platform = DriftDetection.model_validate(
        {"mode": "warn", "ignore": [{"paths": ["/spec/replicas"]}]}
    )
    own = ComponentSpec.model_validate(
        {
            "driftDetection": {
                "mode": "disabled",
                "ignore": [{"paths": ["/data/x"], "target": {"kind": "ConfigMap"}}],
            }
        }
    )

    settings = drift_settings(own, platform)
    default = drift_settings(ComponentSpec(), DriftDetection())

    assert settings.mode == "disabled"
    assert [r.pointer for r in settings.rules] == [("spec", "replicas"), ("data", "x")]
    assert (default.mode, default.rules) == ("enabled", ())


def test_a_manifest_is_read_as_helm_applies_it() -> None:
    manifest = """
apiVersion: v1
kind: Service
metadata: {name: obs-grafana}
spec:
  ports: [{port: 80}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: obs-grafana-clusterrole}
---
apiVersion: example.com/v1
kind: Unknown
metadata: {name: x}
"""
    namespaced = {"Service": True, "ClusterRole": False}

    found = parse(manifest, "monitoring", lambda _, kind: namespaced.get(kind), helm_release="obs")

    service, role = found
    assert [o.key for o in found] == [
        ObjectKey("v1", "Service", "monitoring", "obs-grafana"),
        ObjectKey("rbac.authorization.k8s.io/v1", "ClusterRole", None, "obs-grafana-clusterrole"),
    ]
    assert service.body["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]
    assert service.body["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert service.body["metadata"]["annotations"]["meta.helm.sh/release-name"] == "obs"
    assert "namespace" not in role.body["metadata"]

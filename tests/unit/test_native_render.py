"""Native mode's renderers: the objects each component becomes, their names, the Services and the
pods they reach, the checksum that rolls pods on a configuration change and only then, the
choices the values make (replicas, storage), output that is the same every time, and secrets
only ever referenced."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.native.render import APP_VERSIONS, RENDERER_VERSION, RenderError, render
from shared.values.merge import merge
from shared.values.plan import ComponentPlan, plan_platform
from shared.values.validation import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMESPACE = "mon"
LABELS = {"gunj.io/platform": "obs", "team": "platform"}
SECRET = "s3cr3t-value-never-rendered"


def plans(spec: dict[str, Any], name: str = "obs") -> dict[str, ComponentPlan]:
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }
    result = validate(document)
    assert result.platform is not None, result.problems
    return {plan.component: plan for plan in plan_platform(result.platform)}


def example_plans() -> dict[str, list[ComponentPlan]]:
    """The valid examples' plans, by example."""
    found = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        if len(documents) == 1 and (result := validate(documents[0])).platform:
            found[path.stem] = plan_platform(result.platform)
    return found


def objects_of(plan: ComponentPlan, **changes: Any) -> list[dict[str, Any]]:
    arguments: dict[str, Any] = {
        "release": plan.release,
        "namespace": plan.namespace,
        "values": plan.complete_values([]),
        "labels": LABELS,
        "app_version": plan.app_version,
        **changes,
    }
    return render(plan.component, **arguments)


GRAFANA_ADMIN = {"adminCredentials": {"existingSecret": "grafana-admin"}}
# Specs covering each component's choices; the cluster tier applies every one of them.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "prometheus-default": ("prometheus", {"prometheus": {}}),
    "prometheus-cluster-wide": ("prometheus", {"prometheus": {"discovery": {"clusterWide": True}}}),
    "prometheus-no-storage": (
        "prometheus",
        {
            "prometheus": {
                "storage": {"enabled": False},
                "replicas": 2,
                "externalLabels": {"cluster": "c1"},
            }
        },
    ),
    "prometheus-remote-write": (
        "prometheus",
        {
            "prometheus": {
                "replicas": 2,
                "externalLabels": {"cluster": "c1"},
                "storage": {"size": "20Gi", "storageClassName": "standard"},
                "remoteWrite": [
                    {
                        "url": "https://m.example.com/push",
                        "basicAuth": {
                            "username": "u",
                            "passwordSecretRef": {"name": "rw-basic", "key": "password"},
                        },
                    },
                    {
                        "url": "https://n.example.com/push",
                        "bearerTokenSecretRef": {"name": "rw-token", "key": "token"},
                    },
                ],
            }
        },
    ),
    "grafana-default": ("grafana", {"grafana": GRAFANA_ADMIN}),
    "grafana-persistent": (
        "grafana",
        {
            "prometheus": {},
            "grafana": {
                **GRAFANA_ADMIN,
                "persistence": {"enabled": True, "size": "5Gi"},
                "plugins": ["grafana-clock-panel"],
                "envFromSecret": "grafana-env",
                "ingress": {
                    "host": "g.example.com",
                    "tlsSecretName": "g-tls",
                    "className": "nginx",
                },
            },
        },
    ),
    "grafana-no-admin-secret": ("grafana", {"grafana": {}}),
    "loki-default": ("loki", {"loki": {}}),
    "loki-s3": (
        "loki",
        {
            "loki": {
                "replicas": 3,
                "retention": "744h",
                "storage": {
                    "type": "s3",
                    "bucketNames": {"chunks": "c", "ruler": "r"},
                    "s3": {"region": "eu-west-1", "endpoint": "s3.example.com"},
                    "credentialsSecretRef": {"name": "loki-s3"},
                },
                "limits": {"ingestionRateMb": 8},
            }
        },
    ),
    "loki-distributed": (
        "loki",
        {
            "loki": {
                "deploymentMode": "Distributed",
                "replicas": 2,
                "storage": {"type": "gcs", "bucketNames": {"chunks": "c"}, "size": "3Gi"},
            }
        },
    ),
    "tempo-default": ("tempo", {"prometheus": {}, "tempo": {}}),
    "tempo-persistent": (
        "tempo",
        {
            "prometheus": {},
            "tempo": {
                "metricsGenerator": {"enabled": True},
                "receivers": {"zipkin": True},
                "storage": {
                    "backend": "s3",
                    "bucket": "traces",
                    "size": "5Gi",
                    "credentialsSecretRef": {"name": "tempo-s3"},
                },
            },
        },
    ),
}


def variant_plan(variant: str) -> ComponentPlan:
    component, spec = VARIANTS[variant]
    return plans(spec)[component]


def render_variant(variant: str, **changes: Any) -> list[dict[str, Any]]:
    return objects_of(variant_plan(variant), **changes)


def named(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, [(o["kind"], o["metadata"]["name"]) for o in objects]
    return found[0]


def workload(objects: list[dict[str, Any]]) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet"}]
    assert len(found) == 1
    return found[0]


def pod_spec(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = workload(objects)["spec"]["template"]["spec"]
    return spec


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    containers = pod_spec(objects)["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def config_data(objects: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = named(objects, "ConfigMap")["data"]
    return data


def checksum_of(objects: list[dict[str, Any]]) -> str:
    annotations = workload(objects)["spec"]["template"]["metadata"]["annotations"]
    value: str = annotations["gunj.io/config-checksum"]
    return value


# --- the interface ------------------------------------------------------------------------------


def test_the_renderer_has_a_version_and_the_app_versions_upstream_deploys() -> None:
    assert RENDERER_VERSION.count(".") == 2
    assert APP_VERSIONS == {
        "prometheus": "v3.14.0",
        "grafana": "13.2.0",
        "loki": "3.7.6",
        "tempo": "2.10.8",
    }


def test_an_unknown_component_is_refused() -> None:
    with pytest.raises(RenderError, match="no native renderer for 'mimir'"):
        render("mimir", release="obs-mimir", namespace=NAMESPACE, values={}, labels={})


# --- objects and names --------------------------------------------------------------------------

EXPECTED_OBJECTS = {
    "prometheus-default": [
        ("ServiceAccount", "obs-prometheus-native"),
        ("Role", "obs-prometheus-native"),
        ("RoleBinding", "obs-prometheus-native"),
        ("ConfigMap", "obs-prometheus-native"),
        ("Service", "obs-prometheus-native"),
        ("Service", "obs-prometheus-server"),
        ("StatefulSet", "obs-prometheus-native"),
    ],
    "prometheus-cluster-wide": [
        ("ServiceAccount", "obs-prometheus-native"),
        ("ClusterRole", "mon:obs-prometheus-native"),
        ("ClusterRoleBinding", "mon:obs-prometheus-native"),
        ("ConfigMap", "obs-prometheus-native"),
        ("Service", "obs-prometheus-native"),
        ("Service", "obs-prometheus-server"),
        ("StatefulSet", "obs-prometheus-native"),
    ],
    "prometheus-no-storage": [
        ("ServiceAccount", "obs-prometheus-native"),
        ("Role", "obs-prometheus-native"),
        ("RoleBinding", "obs-prometheus-native"),
        ("ConfigMap", "obs-prometheus-native"),
        ("Service", "obs-prometheus-server"),
        ("Deployment", "obs-prometheus-native"),
    ],
    "grafana-default": [
        ("ServiceAccount", "obs-grafana-native"),
        ("ConfigMap", "obs-grafana-native"),
        ("Service", "obs-grafana"),
        ("Deployment", "obs-grafana-native"),
    ],
    "grafana-persistent": [
        ("ServiceAccount", "obs-grafana-native"),
        ("ConfigMap", "obs-grafana-native"),
        ("Service", "obs-grafana"),
        ("Service", "obs-grafana-native"),
        ("StatefulSet", "obs-grafana-native"),
        ("Ingress", "obs-grafana-native"),
    ],
    "loki-default": [
        ("ServiceAccount", "obs-loki-native"),
        ("ConfigMap", "obs-loki-native"),
        ("Service", "obs-loki"),
        ("Service", "obs-loki-gateway"),
        ("Service", "obs-loki-native"),
        ("StatefulSet", "obs-loki-native"),
    ],
    "tempo-default": [
        ("ServiceAccount", "obs-tempo-native"),
        ("ConfigMap", "obs-tempo-native"),
        ("Service", "obs-tempo"),
        ("Deployment", "obs-tempo-native"),
    ],
    "tempo-persistent": [
        ("ServiceAccount", "obs-tempo-native"),
        ("ConfigMap", "obs-tempo-native"),
        ("Service", "obs-tempo"),
        ("Service", "obs-tempo-native"),
        ("StatefulSet", "obs-tempo-native"),
    ],
}


@pytest.mark.parametrize("variant", sorted(EXPECTED_OBJECTS))
def test_each_component_renders_its_objects_under_native_names(variant: str) -> None:
    objects = render_variant(variant)

    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == EXPECTED_OBJECTS[variant]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_object_carries_the_given_labels_and_what_it_is(variant: str) -> None:
    component = VARIANTS[variant][0]
    for obj in render_variant(variant):
        metadata = obj["metadata"]
        assert set(obj) >= {"apiVersion", "kind", "metadata"}
        assert metadata["labels"] == {
            **LABELS,
            "app.kubernetes.io/name": component,
            "app.kubernetes.io/component": metadata["labels"]["app.kubernetes.io/component"],
            "app.kubernetes.io/managed-by": "gunj",
        }
        cluster_scoped = obj["kind"] in {"ClusterRole", "ClusterRoleBinding"}
        assert ("namespace" in metadata) is not cluster_scoped
        if not cluster_scoped:
            assert metadata["namespace"] == NAMESPACE


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_only_services_take_helm_names_everything_else_is_native(variant: str) -> None:
    plan = variant_plan(variant)
    for obj in render_variant(variant):
        name = obj["metadata"]["name"]
        if obj["kind"] in {"ClusterRole", "ClusterRoleBinding"}:
            assert name == f"{NAMESPACE}:{plan.release}-native"
        elif obj["kind"] != "Service":
            assert name == f"{plan.release}-native"
        else:
            assert name.startswith(plan.release)


# --- Services and the pods they reach -----------------------------------------------------------

# Service name (after the release) -> [(port name, port, target port number)]
EXPECTED_SERVICES = {
    "prometheus-default": {"-server": [("http", 80, 9090)]},
    "grafana-default": {"": [("service", 80, 3000)]},
    "loki-default": {
        "": [("http-metrics", 3100, 3100), ("grpc", 9095, 9095)],
        "-gateway": [("http-metrics", 80, 3100)],
    },
    "tempo-default": {
        "": [
            ("http", 3200, 3200),
            ("otlp-grpc", 4317, 4317),
            ("otlp-http", 4318, 4318),
            ("zipkin", 9411, 9411),
            ("jaeger-http", 14268, 14268),
            ("jaeger-grpc", 14250, 14250),
            ("jaeger-compact", 6831, 6831),
            ("jaeger-binary", 6832, 6832),
        ]
    },
}


def _container_port(objects: list[dict[str, Any]], target: int | str) -> int:
    if isinstance(target, int):
        return target
    ports: dict[str, int] = {p["name"]: p["containerPort"] for p in container(objects)["ports"]}
    return ports[target]


@pytest.mark.parametrize("variant", sorted(EXPECTED_SERVICES))
def test_services_have_the_charts_names_and_ports_and_reach_the_pods(variant: str) -> None:
    plan = variant_plan(variant)
    objects = render_variant(variant)
    pod_labels = workload(objects)["spec"]["template"]["metadata"]["labels"]

    for suffix, expected in EXPECTED_SERVICES[variant].items():
        service = named(objects, "Service", plan.release + suffix)
        ports = [
            (p["name"], p["port"], _container_port(objects, p["targetPort"]))
            for p in service["spec"]["ports"]
        ]
        assert ports == expected
        assert service["spec"]["selector"] == {"gunj.io/native-instance": plan.release}
        assert service["spec"]["selector"].items() <= pod_labels.items()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_workload_selects_its_own_pods_by_the_native_instance_label(variant: str) -> None:
    plan = variant_plan(variant)
    spec = workload(render_variant(variant))["spec"]

    assert spec["selector"] == {"matchLabels": {"gunj.io/native-instance": plan.release}}
    assert spec["template"]["metadata"]["labels"].items() >= {**LABELS}.items()


def test_no_helm_chart_service_selects_native_pods() -> None:
    # Every upstream chart selects on the instance label, which native pods never carry, even
    # when the labels given to the renderer have it.
    labels = {**LABELS, "app.kubernetes.io/instance": "obs-prometheus"}
    objects = render_variant("prometheus-default", labels=labels)
    pod_labels = workload(objects)["spec"]["template"]["metadata"]["labels"]
    helm_selector = {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": "obs-prometheus",
        "app.kubernetes.io/component": "server",
    }

    assert not helm_selector.items() <= pod_labels.items()
    assert "app.kubernetes.io/instance" not in pod_labels


@pytest.mark.parametrize("example", ["minimal", "production"])
def test_cross_component_urls_reach_a_rendered_service_and_port(example: str) -> None:
    rendered = [obj for plan in example_plans()[example] for obj in objects_of(plan)]
    services = {
        (obj["metadata"]["name"], obj["metadata"]["namespace"]): {
            p["port"] for p in obj["spec"]["ports"]
        }
        for obj in rendered
        if obj["kind"] == "Service"
    }
    # URLs to a Service of the platform, and Loki's memberlist peers (dns+<host>:<port>).
    urls = []
    for obj in rendered:
        for text in obj.get("data", {}).values():
            urls += [w for w in text.split() if ".svc:" in w and ("://" in w or "dns+" in w)]
    assert urls
    for url in urls:
        host, port = url.split("//")[-1].removeprefix("dns+").split("/")[0].rsplit(":", 1)
        service, namespace = host.split(".")[:2]
        assert int(port) in services[(service, namespace)], url


# --- the pods -----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pods_run_restricted(variant: str) -> None:
    spec = pod_spec(render_variant(variant))
    security = container(render_variant(variant))["securityContext"]

    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] > 0


EXPECTED_READINESS = {
    "prometheus-default": ("/-/ready", 9090),
    "grafana-default": ("/api/health", 3000),
    "loki-default": ("/ready", 3100),
    "tempo-default": ("/ready", 3200),
}


@pytest.mark.parametrize("variant", sorted(EXPECTED_READINESS))
def test_readiness_is_probed_on_the_components_own_endpoint(variant: str) -> None:
    objects = render_variant(variant)
    probe = container(objects)["readinessProbe"]["httpGet"]

    assert (probe["path"], _container_port(objects, probe["port"])) == EXPECTED_READINESS[variant]


@pytest.mark.parametrize(
    ("variant", "image"),
    [
        ("prometheus-default", "quay.io/prometheus/prometheus:v3.14.0"),
        ("grafana-default", "docker.io/grafana/grafana:13.2.0"),
        ("loki-default", "docker.io/grafana/loki:3.7.6"),
        ("tempo-default", "docker.io/grafana/tempo:2.10.8"),
    ],
)
def test_images_default_to_the_app_version_upstream_deploys(variant: str, image: str) -> None:
    assert container(render_variant(variant))["image"] == image


def test_the_image_follows_the_app_version_in_either_form() -> None:
    with_v = container(render_variant("grafana-default", app_version="v13.1.3"))
    without_v = container(render_variant("prometheus-default", app_version="3.13.1"))

    assert with_v["image"] == "docker.io/grafana/grafana:13.1.3"
    assert without_v["image"] == "quay.io/prometheus/prometheus:v3.13.1"


def test_an_image_tag_in_the_values_wins_over_the_app_version() -> None:
    plan = variant_plan("tempo-default")
    values = {**plan.complete_values([]), "tempo": {"tag": "2.10.9-rc.1"}}
    objects = objects_of(plan, values=values, app_version="2.10.8")

    assert container(objects)["image"] == "docker.io/grafana/tempo:2.10.9-rc.1"


def test_placement_and_resources_come_from_the_values() -> None:
    spec = {
        "global": {
            "nodeSelector": {"pool": "obs"},
            "tolerations": [{"key": "dedicated", "value": "obs", "effect": "NoSchedule"}],
        },
        "loki": {
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
            "affinity": {"nodeAffinity": {}},
        },
    }
    objects = objects_of(plans(spec)["loki"])

    assert pod_spec(objects)["nodeSelector"] == {"pool": "obs"}
    assert pod_spec(objects)["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "obs", "effect": "NoSchedule"}
    ]
    assert pod_spec(objects)["affinity"] == {"nodeAffinity": {}}
    assert container(objects)["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}}


# --- replicas and storage -----------------------------------------------------------------------


def test_persistent_prometheus_is_a_statefulset_with_a_claim_per_pod() -> None:
    objects = render_variant("prometheus-remote-write")
    sts = workload(objects)
    claim = sts["spec"]["volumeClaimTemplates"][0]

    assert sts["kind"] == "StatefulSet"
    assert sts["spec"]["replicas"] == 2
    assert sts["spec"]["serviceName"] == "obs-prometheus-native"
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"] == {"requests": {"storage": "20Gi"}}
    assert claim["spec"]["storageClassName"] == "standard"
    assert claim["metadata"]["labels"]["gunj.io/platform"] == "obs"
    assert all(v["name"] != "data" for v in sts["spec"]["template"]["spec"]["volumes"])


def test_prometheus_without_storage_is_a_deployment_with_an_empty_dir() -> None:
    objects = render_variant("prometheus-no-storage")
    deployment = workload(objects)
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}

    assert deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == 2
    assert "volumeClaimTemplates" not in deployment["spec"]
    assert volumes["data"] == {"name": "data", "emptyDir": {}}


@pytest.mark.parametrize(
    ("variant", "kind", "size", "mount"),
    [
        ("grafana-default", "Deployment", None, "/var/lib/grafana"),
        ("grafana-persistent", "StatefulSet", "5Gi", "/var/lib/grafana"),
        ("loki-default", "StatefulSet", "10Gi", "/var/loki"),
        ("tempo-default", "Deployment", None, "/var/tempo"),
        ("tempo-persistent", "StatefulSet", "5Gi", "/var/tempo"),
    ],
)
def test_storage_follows_the_values_persistence(
    variant: str, kind: str, size: str | None, mount: str
) -> None:
    objects = render_variant(variant)
    found = workload(objects)
    mounts = {m["name"]: m["mountPath"] for m in container(objects)["volumeMounts"]}

    assert found["kind"] == kind
    assert mounts["data"] == mount
    if size:
        claim = found["spec"]["volumeClaimTemplates"][0]
        assert claim["spec"]["resources"]["requests"]["storage"] == size


def test_every_loki_deployment_mode_runs_as_one_binary_with_that_modes_replicas() -> None:
    objects = render_variant("loki-distributed")
    config = yaml.safe_load(config_data(objects)["config.yaml"])

    assert "-target=all" in container(objects)["args"]
    assert workload(objects)["spec"]["replicas"] == 2
    assert workload(objects)["spec"]["volumeClaimTemplates"][0]["spec"]["resources"] == {
        "requests": {"storage": "3Gi"}
    }
    assert config["common"]["storage"] == {"gcs": {"bucket_name": "c"}}


def test_replicas_come_from_the_values() -> None:
    assert workload(render_variant("loki-s3"))["spec"]["replicas"] == 3
    assert workload(render_variant("grafana-default"))["spec"]["replicas"] == 1


# --- the configuration checksum -----------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_checksum_is_that_of_the_rendered_configuration(variant: str) -> None:
    objects = render_variant(variant)
    data = config_data(objects)
    expected = hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()

    assert checksum_of(objects) == expected


@pytest.mark.parametrize(
    ("component", "before", "after"),
    [
        ("prometheus", {"scrapeInterval": "30s"}, {"scrapeInterval": "15s"}),
        ("loki", {"retention": "24h"}, {"retention": "48h"}),
        ("tempo", {"retention": "24h"}, {"retention": "48h"}),
        (
            "grafana",
            {"config": {"grafana.ini": {"users": {"default_theme": "dark"}}}},
            {"config": {"grafana.ini": {"users": {"default_theme": "light"}}}},
        ),
    ],
)
def test_a_configuration_change_changes_the_checksum(
    component: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    first = objects_of(plans({component: before})[component])
    second = objects_of(plans({component: after})[component])

    assert config_data(first) != config_data(second)
    assert checksum_of(first) != checksum_of(second)


@pytest.mark.parametrize(
    ("component", "before", "after"),
    [
        ("prometheus", {"storage": {"size": "8Gi"}}, {"storage": {"size": "9Gi"}}),
        (
            "loki",
            {"resources": {"requests": {"cpu": "1"}}},
            {"resources": {"requests": {"cpu": "2"}}},
        ),
        ("tempo", {}, {"storage": {"size": "3Gi"}, "nodeSelector": {"pool": "b"}}),
        ("grafana", {"replicas": 1}, {"replicas": 1, "envFromSecret": "grafana-env"}),
    ],
)
def test_what_is_not_configuration_leaves_the_checksum_alone(
    component: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    first = objects_of(plans({component: before})[component])
    second = objects_of(plans({component: after})[component])

    assert workload(first) != workload(second)
    assert checksum_of(first) == checksum_of(second)


def test_prometheus_resources_alone_leave_the_checksum_alone() -> None:
    first = objects_of(
        plans({"prometheus": {"resources": {"requests": {"cpu": "1"}}}})["prometheus"]
    )
    second = objects_of(
        plans({"prometheus": {"resources": {"requests": {"cpu": "2"}}}})["prometheus"]
    )

    assert container(first)["resources"] != container(second)["resources"]
    assert checksum_of(first) == checksum_of(second)


# --- deterministic output -----------------------------------------------------------------------


def _reordered(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _reordered(node[key]) for key in reversed(list(node))}
    if isinstance(node, list):
        return [_reordered(item) for item in node]
    return node


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_same_input_renders_byte_identical_output(variant: str) -> None:
    plan = variant_plan(variant)
    first = json.dumps(objects_of(plan))
    second = json.dumps(objects_of(plan))
    reordered = json.dumps(
        objects_of(plan, values=_reordered(plan.complete_values([])), labels=_reordered(LABELS))
    )

    assert first == second
    assert first == reordered


def test_rendering_never_changes_the_values_it_is_given() -> None:
    plan = variant_plan("prometheus-remote-write")
    values = plan.complete_values([])
    before = copy.deepcopy(values)
    objects = objects_of(plan, values=values)
    named(objects, "ConfigMap")["data"]["x"] = "y"

    assert values == before
    assert objects_of(plan, values=values) != objects


# --- secrets ------------------------------------------------------------------------------------


def test_secrets_are_referenced_never_copied() -> None:
    grafana = variant_plan("grafana-persistent")
    loki = variant_plan("loki-s3")
    # Literal secrets where the charts would take them: the renderers read none of them.
    leaks: dict[str, dict[str, Any]] = {
        "grafana": {"adminPassword": SECRET},
        "loki": {"loki": {"storage": {"s3": {"secretAccessKey": SECRET, "accessKeyId": SECRET}}}},
    }
    rendered = {
        plan.component: objects_of(
            plan, values=merge(plan.complete_values([]), leaks[plan.component])
        )
        for plan in (grafana, loki)
    }

    assert SECRET not in json.dumps(rendered)
    env = {e["name"]: e for e in container(rendered["grafana"])["env"]}
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "grafana-admin", "key": "admin-password"}
    }
    assert env["GF_SECURITY_ADMIN_USER"]["valueFrom"] == {
        "secretKeyRef": {"name": "grafana-admin", "key": "admin-user"}
    }
    assert container(rendered["grafana"])["envFrom"] == [{"secretRef": {"name": "grafana-env"}}]
    assert container(rendered["loki"])["envFrom"] == [{"secretRef": {"name": "loki-s3"}}]
    assert container(render_variant("tempo-persistent"))["envFrom"] == [
        {"secretRef": {"name": "tempo-s3"}}
    ]


def test_remote_write_credentials_are_mounted_files() -> None:
    objects = render_variant("prometheus-remote-write")
    config = yaml.safe_load(config_data(objects)["prometheus.yml"])
    volumes = {v["name"]: v for v in pod_spec(objects)["volumes"]}
    mounts = {m["mountPath"]: m for m in container(objects)["volumeMounts"]}

    assert config["remote_write"][0]["basic_auth"] == {
        "username": "u",
        "password_file": "/etc/secrets/rw-basic/password",
    }
    assert config["remote_write"][1]["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/etc/secrets/rw-token/token",
    }
    for secret in ("rw-basic", "rw-token"):
        mount = mounts[f"/etc/secrets/{secret}"]
        assert mount["readOnly"] is True
        assert volumes[mount["name"]]["secret"] == {"secretName": secret}


def test_grafana_without_an_admin_secret_creates_no_default_admin() -> None:
    env = {e["name"]: e for e in container(render_variant("grafana-no-admin-secret"))["env"]}

    assert "GF_SECURITY_ADMIN_PASSWORD" not in env
    assert env["GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION"]["value"] == "true"


def test_the_grafana_database_password_is_read_from_its_mounted_secret() -> None:
    spec = {
        "grafana": {
            **GRAFANA_ADMIN,
            "replicas": 2,
            "database": {
                "type": "postgres",
                "host": "db:5432",
                "name": "grafana",
                "user": "grafana",
                "passwordSecretRef": {"name": "grafana-db", "key": "password"},
            },
        }
    }
    objects = objects_of(plans(spec)["grafana"])
    mounts = {m["mountPath"]: m["name"] for m in container(objects)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(objects)["volumes"]}

    assert (
        "password = $__file{/etc/secrets/grafana-db/password}"
        in config_data(objects)["grafana.ini"]
    )
    assert volumes[mounts["/etc/secrets/grafana-db"]]["secret"]["secretName"] == "grafana-db"
    assert workload(objects)["spec"]["replicas"] == 2


# --- values that cannot be rendered -------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "override", "path"),
    [
        ("prometheus-default", {"server": {"replicaCount": "two"}}, "server.replicaCount"),
        ("prometheus-default", {"extraScrapeConfigs": "job_name: x"}, "extraScrapeConfigs"),
        (
            "grafana-default",
            {"grafana.ini": {"log": {"mode": "console\n[auth]"}}},
            '["grafana.ini"].log.mode',
        ),
        ("loki-default", {"loki": {"schemaConfig": None}}, "loki.schemaConfig"),
        ("tempo-default", {"tolerations": {"key": "x"}}, "tolerations"),
    ],
)
def test_values_of_the_wrong_shape_are_refused_by_path(
    variant: str, override: dict[str, Any], path: str
) -> None:
    plan = variant_plan(variant)
    values = merge(plan.complete_values([]), override)

    with pytest.raises(RenderError, match=f"{plan.component} values {re.escape(path)}:"):
        objects_of(plan, values=values)

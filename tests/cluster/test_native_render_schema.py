"""Every object native mode renders is one the API server takes as it is: each is server-side
applied with ``dryRun=All`` and ``fieldValidation=Strict``, so a field the OpenAPI schema does
not know, a wrong type or a missing required field fails here instead of at a person's reconcile.
Nothing is stored: a dry run only validates and admits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from shared.kube import ClusterAccess
from shared.native.render import render
from shared.values.plan import ComponentPlan
from tests.unit.test_native_render import VARIANTS, example_plans, render_variant

APPLY = "application/apply-patch+yaml"


def _path(cluster: ClusterAccess, obj: dict[str, Any], namespace: str) -> str:
    from kubernetes.dynamic import DynamicClient

    resource = DynamicClient(cluster.api).resources.get(  # type: ignore[no-untyped-call]
        api_version=obj["apiVersion"], kind=obj["kind"]
    )
    where = namespace if resource.namespaced else None
    path: str = resource.path(name=obj["metadata"]["name"], namespace=where)
    return path


def dry_run_apply(cluster: ClusterAccess, obj: dict[str, Any], namespace: str) -> None:
    """Server-side apply ``obj`` as field manager gunj, strictly validated, stored nowhere."""
    api = cluster.api
    request = api.param_serialize(
        "PATCH",
        _path(cluster, obj, namespace),
        query_params=[
            ("dryRun", "All"),
            ("fieldValidation", "Strict"),
            ("fieldManager", "gunj"),
            ("force", "true"),
        ],
        header_params={"Content-Type": APPLY, "Accept": "application/json"},
        body=json.dumps(obj),
        auth_settings=["BearerToken"],
    )
    response = api.call_api(*request)
    response.read()  # type: ignore[no-untyped-call]
    if not 200 <= response.status <= 299:
        raise ApiException(http_resp=response)


def _in(namespace: str, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for obj in objects:
        if "namespace" in obj["metadata"]:
            obj["metadata"]["namespace"] = namespace
    return objects


def _refusals(cluster: ClusterAccess, objects: list[dict[str, Any]], namespace: str) -> list[str]:
    refused = []
    for obj in objects:
        try:
            dry_run_apply(cluster, obj, namespace)
        except ApiException as error:
            refused.append(f"{obj['kind']} {obj['metadata']['name']}: {error.status} {error.body}")
    return refused


EXAMPLE_CASES = [(example, plan) for example, plans in example_plans().items() for plan in plans]


@pytest.mark.parametrize(
    ("example", "plan"),
    EXAMPLE_CASES,
    ids=[f"{example}-{plan.component}" for example, plan in EXAMPLE_CASES],
)
def test_every_object_of_the_examples_passes_strict_validation(
    example: str, plan: ComponentPlan, cluster: ClusterAccess, namespace: str
) -> None:
    # The example's plan names its own namespace (Prometheus' Roles go there): moved, as the
    # variants are.
    objects = _in(
        namespace,
        render(
            plan.component,
            release=plan.release,
            namespace=namespace,
            values=plan.complete_values([]),
            labels={"gunj.io/platform": "obs", "gunj.io/component": plan.component},
            app_version=plan.app_version,
        ),
    )

    assert _refusals(cluster, objects, namespace) == []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_component_variant_passes_strict_validation(
    variant: str, cluster: ClusterAccess, namespace: str
) -> None:
    objects = _in(namespace, render_variant(variant))

    assert _refusals(cluster, objects, namespace) == []


def test_an_unknown_field_is_refused(cluster: ClusterAccess, namespace: str) -> None:
    objects = _in(namespace, render_variant("prometheus-default"))
    config_map = next(obj for obj in objects if obj["kind"] == "ConfigMap")
    config_map["spec"] = {"replicas": 1}

    refused = _refusals(cluster, [config_map], namespace)

    assert len(refused) == 1
    assert "spec" in refused[0]

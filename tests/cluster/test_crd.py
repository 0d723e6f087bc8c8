"""The generated CRD is accepted by a real API server (which checks it is structural), and
platform documents stored through it come back unchanged (nothing pruned); the engine applies
it again when the served one differs, and only then."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import yaml
from kubernetes import client

from shared.engine import resource
from shared.kube import ClusterAccess
from shared.kube.errors import ApiError
from shared.values import crd
from shared.values.validation import load_platform
from tests.unit.test_values_validation import EXAMPLES


@pytest.fixture(scope="module")
def installed_crd(cluster: ClusterAccess) -> Iterator[None]:
    extensions = client.ApiextensionsV1Api(cluster.api)
    manifest = crd.crd_manifest()
    try:
        extensions.create_custom_resource_definition(manifest)
    except ApiError as error:
        if error.status != 409:
            raise
        current = extensions.read_custom_resource_definition(crd.CRD_NAME)
        manifest["metadata"]["resourceVersion"] = current.metadata.resource_version
        extensions.replace_custom_resource_definition(crd.CRD_NAME, manifest)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = extensions.read_custom_resource_definition(crd.CRD_NAME).status
        if any(c.type == "Established" and c.status == "True" for c in status.conditions or []):
            break
        time.sleep(0.2)
    yield


@pytest.mark.parametrize("example", ["minimal.yaml", "production.yaml"])
def test_example_round_trips_through_the_api_server(
    example: str, installed_crd: None, cluster: ClusterAccess, namespace: str
) -> None:
    document = yaml.safe_load((EXAMPLES / example).read_text())
    document["metadata"]["namespace"] = namespace
    objects = client.CustomObjectsApi(cluster.api)

    objects.create_namespaced_custom_object(crd.GROUP, crd.VERSION, namespace, crd.PLURAL, document)
    stored = objects.get_namespaced_custom_object(
        crd.GROUP, crd.VERSION, namespace, crd.PLURAL, document["metadata"]["name"]
    )

    assert stored["spec"] == document["spec"]


def test_api_server_rejects_a_wrongly_typed_spec(
    installed_crd: None, cluster: ClusterAccess, namespace: str
) -> None:
    document = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
    document["metadata"]["namespace"] = namespace
    document["spec"]["prometheus"] = {"replicas": "many"}

    with pytest.raises(ApiError) as raised:
        client.CustomObjectsApi(cluster.api).create_namespaced_custom_object(
            crd.GROUP, crd.VERSION, namespace, crd.PLURAL, document
        )

    assert raised.value.status == 422
    assert "spec.prometheus.replicas" in raised.value.body


def test_quantities_as_numbers_are_stored_as_written_and_read_as_kubernetes_prints_them(
    installed_crd: None, cluster: ClusterAccess, namespace: str
) -> None:
    document = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
    document["metadata"] = {"name": "numbers", "namespace": namespace}
    document["spec"]["prometheus"] = {
        "resources": {"requests": {"cpu": 0.5, "memory": "1Gi"}, "limits": {"cpu": 1}},
        "storage": {"size": 53687091200},
    }
    objects = client.CustomObjectsApi(cluster.api)

    objects.create_namespaced_custom_object(crd.GROUP, crd.VERSION, namespace, crd.PLURAL, document)
    stored = objects.get_namespaced_custom_object(
        crd.GROUP, crd.VERSION, namespace, crd.PLURAL, "numbers"
    )

    assert stored["spec"] == document["spec"]
    spec = load_platform(yaml.safe_dump(stored)).spec.prometheus
    assert spec is not None and spec.resources is not None and spec.resources.requests
    assert spec.resources.requests.cpu == "500m"


def test_a_crd_whose_schema_was_changed_is_applied_again_and_a_current_one_is_left(
    installed_crd: None, cluster: ClusterAccess
) -> None:
    extensions = client.ApiextensionsV1Api(cluster.api)
    wanted = [
        c["name"] for c in crd.crd_manifest()["spec"]["versions"][0]["additionalPrinterColumns"]
    ]
    resource._CRD_CURRENT.clear()  # as a fresh process finds it
    assert resource.ensure_crd(cluster) is False

    served = extensions.read_custom_resource_definition(crd.CRD_NAME)
    version = served.spec.versions[0]
    version.additional_printer_columns = version.additional_printer_columns[:-1]
    extensions.replace_custom_resource_definition(crd.CRD_NAME, served)
    resource._CRD_CURRENT.clear()

    assert resource.ensure_crd(cluster) is True
    columns = extensions.read_custom_resource_definition(crd.CRD_NAME).spec.versions[0]
    assert [c.name for c in columns.additional_printer_columns] == wanted
    resource._CRD_CURRENT.clear()
    assert resource.ensure_crd(cluster) is False

"""A spec whose scrape job name reads another namespace's Secret through a template expression,
installed with the real Helm client and the prometheus test chart (which evaluates its scrape
configs as upstream does): the Secret's password appears nowhere in the release's ConfigMap."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import yaml
from kubernetes import client

from shared.helm import HelmClient, KubeTarget
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from shared.values.plan import plan_platform
from shared.values.validation import validate
from tests.support import http_chart

TIMEOUT = timedelta(minutes=3)


@pytest.fixture
def victim(cluster: ClusterAccess) -> Iterator[tuple[str, str]]:
    """A namespace holding Secret db, and the password in it."""
    namespace = f"victim-{uuid.uuid4().hex[:6]}"
    password = f"pw-{uuid.uuid4().hex}"
    cluster.ensure_namespace(namespace, labels={"gunj.io/test": "true"})
    cluster.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="db"), string_data={"password": password}
        ),
    )
    yield namespace, password
    cluster.delete_namespace(namespace)


def spec(name: str, namespace: str, job_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "prometheus": {
                "storage": {"enabled": False},
                "alertmanager": {"enabled": False},
                "nodeExporter": {"enabled": False},
                "kubeStateMetrics": {"enabled": False},
                "additionalScrapeConfigs": [
                    {"job_name": job_name, "static_configs": [{"targets": ["db:9187"]}]}
                ],
            }
        },
    }


def server_config(cluster: ClusterAccess, namespace: str, release: str) -> str:
    config_map = cluster.core.read_namespaced_config_map(f"{release}-server", namespace)
    text: str = config_map.data["prometheus.yml"]
    return text


def test_lookup_in_a_spec_leaks_nothing(
    helm: HelmClient,
    local_stack: Stack,
    cluster: ClusterAccess,
    namespace: str,
    victim: tuple[str, str],
) -> None:
    victim_namespace, password = victim
    injection = (
        f'x{{{{ (lookup "v1" "Secret" "{victim_namespace}" "db").data.password | b64dec }}}}'
    )
    result = validate(spec("inj", namespace, injection))
    assert result.ok, result.problems
    assert result.platform is not None
    [plan] = plan_platform(result.platform)
    chart = http_chart(local_stack, "prometheus", "29.27.0")
    target = KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)

    helm.install(plan.release, chart, target, values=plan.values, timeout=TIMEOUT)
    # The same job name put into the chart's values as it is, for comparison.
    raw = {**plan.values, "extraScrapeConfigs": yaml.safe_dump([{"job_name": injection}])}
    helm.install("raw-prometheus", chart, target, values=raw, timeout=TIMEOUT)

    installed = server_config(cluster, namespace, plan.release)
    assert password not in installed
    assert [job["job_name"] for job in yaml.safe_load(installed)["scrape_configs"]] == [
        "prometheus",
        injection,
    ]
    # Without gunj's neutralising, the chart reads the Secret with the installer's rights.
    assert password in server_config(cluster, namespace, "raw-prometheus")

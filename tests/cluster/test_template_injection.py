"""A spec whose scrape job name reads another namespace's Secret through a template expression,
installed with the real Helm client and the prometheus test chart (which evaluates its scrape
configs as upstream does): the Secret's password appears nowhere in the release's ConfigMap."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import yaml
from kubernetes import client

from shared.helm import HelmClient, KubeTarget
from shared.helm.releases import ReleaseStore
from shared.kube import ClusterAccess
from shared.localstack.stack import Stack
from shared.values.plan import plan_platform
from shared.values.validation import validate
from tests.engine_support import SMALL_TEMPO, Engine
from tests.support import http_chart
from tests.unit.test_values_templating import EVERYTHING

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
    # (Less what names the server's account and Role after gunj's release: those are its own.)
    raw = {
        **{k: v for k, v in plan.values.items() if k not in {"serviceAccounts", "extraManifests"}},
        "extraScrapeConfigs": yaml.safe_dump([{"job_name": injection}]),
    }
    helm.install("raw-prometheus", chart, target, values=raw, timeout=TIMEOUT)

    installed = server_config(cluster, namespace, plan.release)
    assert password not in installed
    jobs = [job["job_name"] for job in yaml.safe_load(installed)["scrape_configs"]]
    assert "prometheus" in jobs and jobs[-1] == injection  # the spec's job, as written
    # Without gunj's neutralising, the chart reads the Secret with the installer's rights.
    assert password in server_config(cluster, namespace, "raw-prometheus")


def strings(node: Any, location: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(node, dict):
        return [loc for key, value in node.items() for loc in strings(value, (*location, key))]
    if isinstance(node, list):
        return [loc for i, value in enumerate(node) for loc in strings(value, (*location, i))]
    return [location] if isinstance(node, str) else []


def put(node: Any, location: tuple[str | int, ...], value: Any) -> None:
    for part in location[:-1]:
        node = node[part]
    node[location[-1]] = value


def with_injection(namespace: str, injection: str) -> tuple[dict[str, Any], list[str]]:
    """A spec that sets every field gunj derives values from, with ``injection`` added to every
    string field validation accepts it in (the others refuse it), and the fields it is in."""
    spec = copy.deepcopy(EVERYTHING)
    accepted = []
    for location in strings(spec):
        trial = copy.deepcopy(spec)
        put(trial, location, f"{dig(trial, location)}{injection}")
        if validate(document(namespace, trial)).ok:
            spec = trial
            accepted.append(".".join(map(str, location)))
    return spec, accepted


def dig(node: Any, location: tuple[str | int, ...]) -> Any:
    for part in location:
        node = node[part]
    return node


def document(namespace: str, spec: dict[str, Any], name: str = "obs") -> dict[str, Any]:
    return {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def said_anywhere(engine: Engine, namespace: str, outcome: Any) -> str:
    """Everything gunj wrote or said about the platforms of ``namespace``: the outcome, the
    platforms' status, the namespace's Events, and every Helm revision (its rendered manifest,
    hooks and values)."""
    parts = [json.dumps(outcome.to_json())]
    for item in engine.access.custom.list_namespaced_custom_object(
        "observability.io", "v1beta1", namespace, "observabilityplatforms"
    )["items"]:
        parts.append(json.dumps(item.get("status", {})))
    parts += [str(e.message) for e in engine.access.core.list_namespaced_event(namespace).items]
    store = ReleaseStore(engine.access)
    for revisions in store.namespace_revisions(namespace).values():
        parts += [json.dumps(revision.decode()) for revision in revisions]
    return "\n".join(parts)


def test_a_lookup_in_every_string_field_of_a_spec_never_runs(
    engine: Engine, namespace: str, victim: tuple[str, str]
) -> None:
    victim_namespace, password = victim
    injection = f'{{{{ (lookup "v1" "Secret" "{victim_namespace}" "db").data.password | b64dec }}}}'
    spec, accepted = with_injection(namespace, injection)
    # Free text of every component reaches values the charts evaluate.
    assert {
        "prometheus.additionalScrapeConfigs.0.job_name",
        "grafana.ingress.annotations.a",
    } <= set(accepted)

    outcome = engine.apply(validate(document(namespace, spec)).platform)

    assert outcome.result == "ready", outcome
    written = said_anywhere(engine, namespace, outcome)
    # The text reached the rendered objects, as text.
    assert json.dumps(injection)[1:-1] in written
    assert password not in written


def test_a_lookup_in_config_as_binary_never_runs(
    engine: Engine, namespace: str, victim: tuple[str, str]
) -> None:
    victim_namespace, password = victim
    lookup = f'{{{{ (lookup "v1" "Secret" "{victim_namespace}" "db").data.password | b64dec }}}}'
    text = yaml.safe_dump(document(namespace, {"tempo": {**SMALL_TEMPO, "config": {"x": 1}}}))
    encoded = base64.b64encode(f"x: {lookup}\n".encode()).decode()
    text = text.replace("x: 1", f"config: !!binary {encoded}")
    result = validate(yaml.safe_load(text))

    if result.platform is None:  # a loader that accepts JSON types only refuses it at once
        assert [p.path for p in result.problems] == ["spec.tempo.config.config"]
        return
    outcome = engine.apply(result.platform)

    assert outcome.result == "refused", outcome
    assert "spec.tempo.config.config" in outcome.message
    assert engine.release(namespace, "obs-tempo").revision is None
    assert password not in said_anywhere(engine, namespace, outcome)


def test_a_lookup_in_a_values_from_config_map_never_runs(
    engine: Engine, namespace: str, victim: tuple[str, str]
) -> None:
    victim_namespace, password = victim
    lookup = f'{{{{ (lookup "v1" "Secret" "{victim_namespace}" "db").data.password | b64dec }}}}'
    # grafana 12.x evaluates its pod's affinity and each ingress annotation (_pod.tpl,
    # ingress.yaml), and every pod's image pull Secrets through global.
    values = {
        "affinity": {"nodeAffinity": {"x": lookup}},
        "ingress": {"enabled": True, "annotations": {"a": lookup}},
        "global": {"imagePullSecrets": [{"name": lookup}]},
    }
    engine.access.core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="values"),
            data={"values.yaml": yaml.safe_dump(values)},
        ),
    )
    grafana = {
        "adminCredentials": {"existingSecret": "admin"},
        "valuesFrom": [{"kind": "ConfigMap", "name": "values"}],
    }

    outcome = engine.apply(validate(document(namespace, {"grafana": grafana})).platform)

    assert outcome.result == "refused", outcome
    for path in ("affinity.nodeAffinity.x", "ingress.annotations.a", "imagePullSecrets[0].name"):
        assert path in outcome.message
    assert engine.release(namespace, "obs-grafana").revision is None
    assert password not in said_anywhere(engine, namespace, outcome)

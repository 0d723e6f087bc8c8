"""Native mode on the local cluster: the four components as plain objects applied by gunj,
kept in sync without writes, changed, rolled back, pruned and removed like Helm releases; the
examples wired the same as with Helm; a fallback from Helm only where allowed; a Helm release
never taken over; and switches between the modes that end with one form and no orphan."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from shared.engine.reconciler import Reconciler
from shared.engine.request import Request
from shared.engine.settings import EngineSettings
from shared.helm import HelmClient, KubeTarget
from shared.helm.releases import ReleaseState, ReleaseStore
from shared.helm.repositories import RepositorySettings
from shared.kube import ClusterAccess
from shared.kube.client import TypedApiClient
from shared.kube.errors import ApiError
from shared.localstack.stack import Stack
from shared.native.apply import owned
from shared.values.validation import validate
from tests.engine_support import (
    EXAMPLES,
    SMALL_PROMETHEUS,
    SMALL_TEMPO,
    Engine,
    make_engine,
    platform,
)
from tests.servers import chart_repository
from tests.support import http_chart

GRAFANA = {"adminCredentials": {"existingSecret": "grafana-admin"}}
NATIVE = {"mode": "native"}


@pytest.fixture
def native(engine_helm3: Engine) -> Engine:
    """The engine, for platforms whose spec asks for native mode (Helm is not used)."""
    return engine_helm3


def native_store(engine: Engine) -> ReleaseStore:
    return ReleaseStore(engine.access, owner="gunj-native")


def kinds(engine: Engine, namespace: str, component: str) -> set[tuple[str, str]]:
    return {(k.kind, k.name) for k in owned(engine.access, namespace, "obs", component)}


def checksum(engine: Engine, namespace: str, name: str) -> str:
    for read in (
        engine.access.apps.read_namespaced_stateful_set,
        engine.access.apps.read_namespaced_deployment,
    ):
        try:
            workload = read(name, namespace)
        except ApiError as error:
            if error.status == 404:  # the other kind
                continue
            raise
        return str(workload.spec.template.metadata.annotations["gunj.io/config-checksum"])
    raise AssertionError(f"no workload {name}")


def test_native_components_install_change_roll_back_prune_and_uninstall(
    native: Engine, namespace: str
) -> None:
    spec = {
        "global": NATIVE,
        "prometheus": SMALL_PROMETHEUS,
        "loki": {},
        "tempo": SMALL_TEMPO,
        "grafana": GRAFANA,
    }
    outcome = native.apply(platform(namespace, **spec))

    assert outcome.result == "ready", outcome
    status = native.status(namespace)
    assert {c.mode for c in status.components.values()} == {"native"}
    services = {
        name
        for _, name in set().union(
            *(kinds(native, namespace, c) for c in ("prometheus", "loki", "tempo", "grafana"))
        )
        if name.startswith("obs-")
    }
    assert {
        "obs-prometheus-server",
        "obs-loki",
        "obs-loki-gateway",
        "obs-tempo",
        "obs-grafana",
    } <= services
    assert ReleaseStore(native.access).observe_namespace(namespace) == {}  # no Helm at all
    native.helm_runs()

    again = native.apply(platform(namespace, **spec))
    assert again.result == "ready" and all(not c.actions for c in again.components)
    assert native.helm_runs() == []

    before = checksum(native, namespace, "obs-prometheus-native")
    changed = {**spec, "prometheus": {**SMALL_PROMETHEUS, "scrapeInterval": "45s"}}
    outcome = native.apply(platform(namespace, **changed))
    assert {c.component: c.actions for c in outcome.components} == {
        "prometheus": ("upgrade", "verify"),
        "loki": (),
        "tempo": (),
        "grafana": (),
    }
    assert checksum(native, namespace, "obs-prometheus-native") != before  # pods roll
    assert native_store(native).observe("obs-prometheus", namespace).revision == 2

    rolled = native.reconciler.rollback(namespace, "obs", "prometheus")
    assert rolled.result == "rolled-back", rolled
    restored = native_store(native).observe("obs-prometheus", namespace)
    assert restored.revision == 3
    assert checksum(native, namespace, "obs-prometheus-native") == before
    # The values rolled back from are quarantined: a spec still asking for them is held.
    held = native.apply(platform(namespace, **changed))
    assert held.result == "stalled", held
    assert native_store(native).observe("obs-prometheus", namespace).revision == 3

    with_ingress = {**spec, "grafana": {**GRAFANA, "ingress": {"host": "grafana.example.com"}}}
    assert native.apply(platform(namespace, **with_ingress)).result == "ready"
    assert ("Ingress", "obs-grafana-native") in kinds(native, namespace, "grafana")
    assert native.apply(platform(namespace, **spec)).result == "ready"
    assert ("Ingress", "obs-grafana-native") not in kinds(native, namespace, "grafana")

    without_tempo = {**spec, "tempo": {**SMALL_TEMPO, "enabled": False}}
    outcome = native.apply(platform(namespace, **without_tempo))
    assert outcome.result == "ready"
    assert kinds(native, namespace, "tempo") == set()
    assert native_store(native).observe("obs-tempo", namespace).state is ReleaseState.ABSENT
    assert "tempo" not in native.status(namespace).components


def test_the_minimal_example_in_native_mode_comes_up_wired_as_with_helm(
    native: Engine, namespace: str
) -> None:
    # The production example asks for a storage class and labelled nodes of a real cluster;
    # its wiring is checked on the rendered objects and by the API server's strict dry-run.
    document = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
    document["metadata"]["namespace"] = namespace
    document["spec"].setdefault("global", {})["mode"] = "native"
    result = validate(document)
    assert result.platform is not None, result.problems

    outcome = native.apply(result.platform)

    assert outcome.result == "ready", outcome
    sources = native.access.core.read_namespaced_config_map("obs-grafana-native", namespace)
    provisioned = [
        yaml.safe_load(text)
        for key, text in (sources.data or {}).items()
        if key.startswith("datasources")
    ]
    urls = [
        s["url"]
        for doc in provisioned
        for s in doc.get("datasources", [])
        if s.get("url", "").startswith("http://obs-")
    ]
    assert urls
    for url in urls:
        host, port = url.removeprefix("http://").split("/")[0].split(":")
        service = native.access.core.read_namespaced_service(host.split(".")[0], namespace)
        assert int(port) in {p.port for p in service.spec.ports}, url


def test_a_workload_held_back_fails_with_what_holds_it(native: Engine, namespace: str) -> None:
    # More cpu than a node has: other pods finishing could make room, so it is no verdict
    # before the deadline (a change the cluster says cannot come up at all stops sooner:
    # test_engine_blockers.py), and the deadline's message says what holds the workload.
    prometheus = {
        **SMALL_PROMETHEUS,
        "resources": {"requests": {"cpu": "500"}},
        "timeout": "20s",
        "remediation": {"retries": 0},
    }

    outcome = native.apply(platform(namespace, **{"global": NATIVE, "prometheus": prometheus}))

    assert outcome.result != "ready", outcome
    message = native.status(namespace).components["prometheus"].message or ""
    assert "0/1 replicas ready" in message, message
    assert "unschedulable" in message and "Insufficient cpu" in message, message
    assert "cannot succeed" not in message, message


def test_a_statefulset_keeps_its_claim_through_upgrades_and_uninstall(
    native: Engine, namespace: str
) -> None:
    # The claim holds Prometheus' data: an upgrade must never delete it, and uninstalling
    # leaves it, as Helm does.
    persistent = {**SMALL_PROMETHEUS, "storage": {"size": "1Gi"}}
    outcome = native.apply(platform(namespace, **{"global": NATIVE, "prometheus": persistent}))
    assert outcome.result == "ready", outcome
    claim = "data-obs-prometheus-native-0"
    first = native.access.core.read_namespaced_persistent_volume_claim(claim, namespace)
    assert first.status.phase == "Bound"

    for interval in ("45s", "50s"):
        changed = {**persistent, "scrapeInterval": interval}
        outcome = native.apply(platform(namespace, **{"global": NATIVE, "prometheus": changed}))
        assert outcome.result == "ready", outcome
        assert [c.actions for c in outcome.components] == [("upgrade", "verify")]

        kept = native.access.core.read_namespaced_persistent_volume_claim(claim, namespace)
        assert kept.metadata.uid == first.metadata.uid
        assert kept.metadata.deletion_timestamp is None
        assert kept.status.phase == "Bound"

    removed = native.reconciler.uninstall(namespace, "obs")
    assert removed.result != "error", removed
    assert native_store(native).observe("obs-prometheus", namespace).state is ReleaseState.ABSENT
    left = native.access.core.read_namespaced_persistent_volume_claim(claim, namespace)
    assert left.metadata.uid == first.metadata.uid
    assert left.metadata.deletion_timestamp is None


class FlakyApiClient(TypedApiClient):
    """The real API client, except that applying a workload fails with the next of
    ``failures`` while any are left, below the client's typing of errors: the API server failing
    in the middle of an apply, as the library reports it."""

    failures: list[Exception]

    def call_api(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        workload = "/deployments/" in url or "/statefulsets/" in url
        if self.failures and method == "PATCH" and workload:
            failure = self.failures.pop(0)

            def fail(*_: Any, **__: Any) -> Any:
                raise failure

            real, self.rest_client.request = self.rest_client.request, fail  # type: ignore[method-assign]
            try:
                return super().call_api(method, url, *args, **kwargs)
            finally:
                self.rest_client.request = real  # type: ignore[method-assign]
        return super().call_api(method, url, *args, **kwargs)


@dataclass
class FlakyAccess(ClusterAccess):
    failures: list[Exception] = field(default_factory=list)

    @cached_property
    def api(self) -> Any:  # type: ignore[override]
        flaky = FlakyApiClient(ClusterAccess(self.kubeconfig, self.context).api.configuration)
        flaky.failures = self.failures
        return flaky


@pytest.mark.parametrize(
    "failure",
    [
        ApiException(status=503, reason="Service Unavailable"),
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset")),
    ],
    ids=["503", "connection-reset"],
)
def test_an_api_failure_mid_apply_leaves_no_pending_revision_behind(
    native: Engine, namespace: str, failure: Exception
) -> None:
    access = FlakyAccess(native.access.kubeconfig)
    flaky = replace(native, reconciler=replace(native.reconciler, access=access), access=access)
    small = {**SMALL_PROMETHEUS, "remediation": {"retries": 0}}
    assert flaky.apply(platform(namespace, **{"global": NATIVE, "prometheus": small})).result == (
        "ready"
    )

    changed = {**small, "scrapeInterval": "45s"}
    access.failures.append(failure)
    failed = flaky.apply(platform(namespace, **{"global": NATIVE, "prometheus": changed}))

    # Delivered again later, not held: the API server failing is no failure of the change.
    assert (failed.result, failed.transient) == ("error", True), failed
    assert "Deployment" in failed.message and "the API server" in failed.message, failed
    history = native_store(native).revisions("obs-prometheus", namespace)
    assert [(r.revision, r.status.value) for r in history] == [(1, "deployed")]

    # Nothing waits for a deadline: the next delivery makes the change.
    outcome = flaky.apply(platform(namespace, **{"global": NATIVE, "prometheus": changed}))
    assert outcome.result == "ready", outcome
    assert [c.actions for c in outcome.components] == [("upgrade", "verify")]
    assert native_store(native).observe("obs-prometheus", namespace).revision == 2


def test_an_object_the_api_server_refuses_mid_apply_fails_the_revision(
    native: Engine, namespace: str
) -> None:
    small = {**SMALL_PROMETHEUS, "remediation": {"retries": 0}}
    assert native.apply(platform(namespace, **{"global": NATIVE, "prometheus": small})).result == (
        "ready"
    )
    # The server's Deployment comes after its ServiceAccount, ConfigMap and Services.
    refused = {**small, "config": {"server": {"nodeSelector": {"not a label key!": "x"}}}}

    outcome = native.apply(platform(namespace, **{"global": NATIVE, "prometheus": refused}))

    assert outcome.result in {"failed", "stalled"}, outcome
    assert not outcome.transient
    record = native.status(namespace).components["prometheus"]
    assert "Deployment" in (record.last_failure or ""), record
    states = [r.status.value for r in native_store(native).revisions("obs-prometheus", namespace)]
    assert "failed" in states and not [s for s in states if s.startswith("pending")], states

    fixed = native.apply(platform(namespace, **{"global": NATIVE, "prometheus": small}))
    assert fixed.result == "ready", fixed


def _reconciler(stack: Stack, tmp_path: Path, *, fallback: bool) -> Reconciler:
    broken = {url: "http://127.0.0.1:1/nothing" for url in stack.repository_mirrors()}
    return Reconciler(
        "local",
        ClusterAccess(stack.kubeconfig),
        EngineSettings(
            helm_binary=stack.helm[3], cache=tmp_path / "cache", native_fallback=fallback
        ),
        repositories=RepositorySettings(mirrors=broken),
    )


def test_a_new_component_falls_back_to_native_only_where_allowed(
    local_stack: Stack, tmp_path: Path, namespace: str
) -> None:
    spec = platform(namespace, prometheus={**SMALL_PROMETHEUS, "chartVersion": "29.27.0"})

    refused = _reconciler(local_stack, tmp_path, fallback=False).apply(spec)
    assert (refused.result, refused.transient) == ("error", True)
    assert "falling back to native mode is not allowed" in refused.message

    outcome = _reconciler(local_stack, tmp_path, fallback=True).apply(spec, Request())
    assert outcome.result == "ready", outcome
    engine = make_engine(
        HelmClient.for_path(local_stack.helm[3]), local_stack, tmp_path, tmp_path / "cache"
    )
    record = engine.status(namespace).components["prometheus"]
    assert record.mode == "native" and "cannot be reached" in record.fallback
    assert "FallbackToNative" in [reason for _, reason, _ in engine.events(namespace)]

    # Later events keep the stand-in, the reason it stood in for, and say so once.
    again = _reconciler(local_stack, tmp_path, fallback=True).apply(spec, Request())
    assert again.result == "ready" and again.components[0].actions == ()
    record = engine.status(namespace).components["prometheus"]
    assert record.mode == "native" and "cannot be reached" in record.fallback
    reasons = [reason for _, reason, _ in engine.events(namespace)]
    assert reasons.count("FallbackToNative") == 1


def test_a_helm_release_is_never_taken_over(
    native: Engine, namespace: str, local_stack: Stack
) -> None:
    target = KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)
    native.helm.install(
        "obs-prometheus",
        http_chart(local_stack, "prometheus", "29.27.0"),
        target,
        values={"alertmanager": {"enabled": False}},
    )

    outcome = native.apply(
        platform(namespace, **{"global": NATIVE, "prometheus": SMALL_PROMETHEUS})
    )

    assert outcome.result in {"failed", "stalled"}, outcome
    assert "belongs to the Helm release obs-prometheus" in (
        native.status(namespace).components["prometheus"].last_failure
    )
    helm_release = ReleaseStore(native.access).observe("obs-prometheus", namespace)
    assert (helm_release.state, helm_release.revision) == (ReleaseState.DEPLOYED, 1)
    service = native.access.core.read_namespaced_service("obs-prometheus-server", namespace)
    assert service.metadata.annotations["meta.helm.sh/release-name"] == "obs-prometheus"


def native_cluster_roles(engine: Engine, *platforms: str) -> dict[str, str]:
    """Native mode's ClusterRoles of ``platforms``, with the namespace each is labelled with."""
    rbac = rbac_api(engine)
    selector = f"gunj.io/native=true,gunj.io/platform in ({','.join(platforms)})"
    return {
        role.metadata.name: role.metadata.labels["gunj.io/namespace"]
        for role in rbac.list_cluster_role(label_selector=selector).items
    }


def rbac_api(engine: Engine) -> client.RbacAuthorizationV1Api:
    return client.RbacAuthorizationV1Api(engine.access.api)


# Discovery in every namespace: the server's RBAC is a ClusterRole and its binding.
CLUSTER_WIDE_PROMETHEUS = {**SMALL_PROMETHEUS, "discovery": {"clusterWide": True}}


def test_platforms_whose_names_join_alike_keep_their_own_cluster_scoped_objects(
    native: Engine, namespace: str, cluster: ClusterAccess
) -> None:
    # "<namespace>-a" with platform "x", and "<namespace>" with platform "a-x": joined by "-",
    # both would name their ClusterRole "<namespace>-a-x-prometheus-native".
    other = f"{namespace}-a"
    cluster.ensure_namespace(other, labels={"gunj.io/test": "true"})
    prometheus = {"global": NATIVE, "prometheus": CLUSTER_WIDE_PROMETHEUS}
    try:
        first = native.apply(platform(other, name="x", **prometheus))
        second = native.apply(platform(namespace, name="a-x", **prometheus))

        assert (first.result, second.result) == ("ready", "ready"), (first, second)
        assert native_cluster_roles(native, "x", "a-x") == {
            f"{other}:x-prometheus-native": other,
            f"{namespace}:a-x-prometheus-native": namespace,
        }
        # Each platform's removal takes its own objects only.
        assert native.reconciler.uninstall(other, "x").result == "removed"
        assert native_cluster_roles(native, "x", "a-x") == {
            f"{namespace}:a-x-prometheus-native": namespace
        }
    finally:
        native.reconciler.uninstall(namespace, "a-x")
        cluster.delete_namespace(other)


def test_another_platforms_cluster_scoped_object_is_never_taken_over(
    native: Engine, namespace: str
) -> None:
    name = f"{namespace}:obs-prometheus-native"
    theirs = {"gunj.io/native": "true", "gunj.io/platform": "other", "gunj.io/namespace": "else"}
    rules = [client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get"])]
    rbac = rbac_api(native)
    rbac.create_cluster_role(
        client.V1ClusterRole(metadata=client.V1ObjectMeta(name=name, labels=theirs), rules=rules)
    )
    try:
        outcome = native.apply(
            platform(namespace, **{"global": NATIVE, "prometheus": CLUSTER_WIDE_PROMETHEUS})
        )

        assert outcome.result in {"failed", "stalled"}, outcome
        failure = native.status(namespace).components["prometheus"].last_failure
        assert f"ClusterRole {name} exists and belongs to platform else/other" in failure
        kept = rbac.read_cluster_role(name)
        assert kept.metadata.labels == theirs
        assert [(r.resources, r.verbs) for r in kept.rules] == [(["pods"], ["get"])]
        # Nothing of the refused component was applied.
        assert owned(native.access, namespace, "obs", "prometheus") == []
    finally:
        rbac.delete_cluster_role(name)


def test_switching_helm_to_native_and_back_leaves_one_form_and_no_orphan(
    engine: Engine, namespace: str
) -> None:
    helm_mode = platform(namespace, prometheus=SMALL_PROMETHEUS)
    assert engine.apply(helm_mode).result == "ready"

    to_native = platform(namespace, prometheus={**SMALL_PROMETHEUS, **NATIVE})
    outcome = engine.apply(to_native)

    assert outcome.result == "ready", outcome
    assert ReleaseStore(engine.access).observe("obs-prometheus", namespace).state is (
        ReleaseState.ABSENT
    )
    assert native_store(engine).observe("obs-prometheus", namespace).state is (
        ReleaseState.DEPLOYED
    )
    service = engine.access.core.read_namespaced_service("obs-prometheus-server", namespace)
    assert service.metadata.labels["gunj.io/native"] == "true"
    assert engine.status(namespace).components["prometheus"].mode == "native"

    back = platform(namespace, prometheus={**SMALL_PROMETHEUS, "mode": "helm"})
    outcome = engine.apply(back)

    assert outcome.result == "ready", outcome
    assert ReleaseStore(engine.access).observe("obs-prometheus", namespace).state is (
        ReleaseState.DEPLOYED
    )
    assert native_store(engine).observe("obs-prometheus", namespace).state is (ReleaseState.ABSENT)
    assert owned(engine.access, namespace, "obs", "prometheus") == []
    service = engine.access.core.read_namespaced_service("obs-prometheus-server", namespace)
    assert service.metadata.annotations["meta.helm.sh/release-name"] == "obs-prometheus"
    assert engine.status(namespace).components["prometheus"].mode == "helm"


def test_the_process_default_picks_a_form_for_new_components_only(
    engine_helm3: Engine, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_helm3
    assert engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS)).result == "ready"

    # The function redeployed with native mode as its default: what runs keeps its form, and
    # only a component that has none yet is made natively (another platform's, here: a new
    # component of the same platform changes the others' values too).
    monkeypatch.setenv("GUNJ_MANAGER_MODE", "native")
    engine.helm_runs()
    outcome = engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS))
    new = engine.apply(platform(namespace, name="other", tempo=SMALL_TEMPO))

    assert outcome.result == "ready", outcome
    assert outcome.components[0].actions == ()
    assert new.result == "ready", new
    assert engine.helm_runs() == []
    helm_release = engine.release(namespace, "obs-prometheus")
    assert (helm_release.state, helm_release.revision) == (ReleaseState.DEPLOYED, 1)
    assert native_store(engine).observe("obs-prometheus", namespace).state is ReleaseState.ABSENT
    assert engine.status(namespace).components["prometheus"].mode == "helm"
    tempo = engine.status(namespace, "other").components["tempo"]
    assert (tempo.mode, tempo.fallback) == ("native", "")

    # The spec naming native mode is the explicit switch, and still makes it.
    switched = engine.apply(platform(namespace, prometheus={**SMALL_PROMETHEUS, **NATIVE}))

    assert switched.result == "ready", switched
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    assert native_store(engine).observe("obs-prometheus", namespace).state is (
        ReleaseState.DEPLOYED
    )
    assert engine.status(namespace).components["prometheus"].mode == "native"


def test_without_a_helm_binary_native_components_run_and_helm_ones_say_what_is_missing(
    engine_helm3: Engine,
    local_stack: Stack,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert engine_helm3.apply(platform(namespace, prometheus=SMALL_PROMETHEUS)).result == "ready"
    monkeypatch.setenv("GUNJ_MANAGER_MODE", "native")
    # A function packaged without Helm: no GUNJ_HELM_BINARY, no bin/helm, no helm on PATH.
    (tmp_path / "empty").mkdir()
    settings = EngineSettings.from_environment({"PATH": str(tmp_path / "empty")})
    assert settings.helm_binary is None
    no_helm = Reconciler(
        "local",
        ClusterAccess(local_stack.kubeconfig),
        replace(settings, cache=tmp_path / "no-helm-cache"),
        repositories=RepositorySettings.from_environment(local_stack.environment()),
    )

    # The Helm release in sync needs no Helm to stay so; a new component comes up natively.
    outcome = no_helm.apply(platform(namespace, prometheus=SMALL_PROMETHEUS))
    new = no_helm.apply(platform(namespace, name="other", tempo=SMALL_TEMPO))

    assert (outcome.result, outcome.components[0].actions) == ("ready", ()), outcome
    assert (new.result, new.components[0].actions) == ("ready", ("install", "verify")), new
    assert engine_helm3.status(namespace, "other").components["tempo"].mode == "native"

    # Changing the Helm release needs Helm: said plainly, and no failed attempt of its own.
    changed = {**SMALL_PROMETHEUS, "scrapeInterval": "45s"}
    refused = no_helm.apply(platform(namespace, prometheus=changed))

    assert (refused.result, refused.transient) == ("error", False), refused
    assert "upgrade of obs-prometheus needs Helm" in refused.message
    assert "GUNJ_HELM_BINARY" in refused.message
    assert engine_helm3.release(namespace, "obs-prometheus").revision == 1
    assert engine_helm3.status(namespace).components["prometheus"].failures == 0

    # A new component the spec asks to make with Helm, without a fallback allowed.
    helm_tempo = {**SMALL_TEMPO, "mode": "helm"}
    unavailable = no_helm.apply(platform(namespace, name="third", tempo=helm_tempo))
    assert unavailable.result == "error", unavailable
    assert "GUNJ_HELM_BINARY" in unavailable.message
    assert "GUNJ_NATIVE_FALLBACK" in unavailable.message


@pytest.mark.parametrize("cause", ["credentials-secret", "values-secret", "refused-login"])
def test_a_secret_or_a_login_helm_needs_is_no_reason_to_fall_back(
    local_stack: Stack, engine_helm3: Engine, tmp_path: Path, namespace: str, cause: str
) -> None:
    # Fallback allowed, and the chart's repository is down too: what is wrong here is the
    # spec's or the cluster's to fix, and native mode standing in would hide it.
    reconciler = _reconciler(local_stack, tmp_path, fallback=True)
    prometheus: dict[str, Any] = {**SMALL_PROMETHEUS}
    if cause == "credentials-secret":
        prometheus["chart"] = {"credentialsSecretRef": {"name": "no-such-secret"}}
        expected = "no-such-secret does not exist"
    elif cause == "values-secret":
        prometheus["valuesFrom"] = [{"kind": "Secret", "name": "no-such-secret"}]
        expected = "no-such-secret does not exist"
    else:
        engine_helm3.access.core.create_namespaced_secret(
            namespace,
            {
                "metadata": {"name": "repository-login"},
                "stringData": {"username": "reader", "password": "not-the-password"},
            },
        )
        expected = "the repository refused the request"
    with chart_repository(local_stack.folder / "charts", credentials="reader:s3cret") as served:
        if cause == "refused-login":
            private = f"{served.url}/prometheus-community"
            prometheus["chart"] = {
                "repository": private,
                "credentialsSecretRef": {"name": "repository-login"},
            }
            # On 127.0.0.1 over plain http: reached only as a configured mirror.
            charts = reconciler.charts
            mirrors = {**charts.settings.mirrors, private: private}
            charts.settings = replace(charts.settings, mirrors=mirrors)
        outcome = reconciler.apply(platform(namespace, prometheus=prometheus))

    assert outcome.result == "error", outcome
    assert expected in outcome.message, outcome.message
    assert "FallbackToNative" not in [reason for _, reason, _ in engine_helm3.events(namespace)]
    assert native_store(engine_helm3).observe("obs-prometheus", namespace).state is (
        ReleaseState.ABSENT
    )
    record = engine_helm3.status(namespace).components.get("prometheus")
    assert record is None or (record.mode, record.fallback) == ("helm", "")

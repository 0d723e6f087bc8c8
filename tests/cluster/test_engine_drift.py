"""Live state on the local cluster, with Helm 3, Helm 4 and native mode: a deleted Deployment, a
StatefulSet scaled to 0, an edited ConfigMap key, a changed container image and a deleted
Service are each found; corrected with drift detection enabled (the default), only reported
with ``warn``, never touched with ``disabled``; and the status, the Events and the outcome name
each object and field but never a value. What other controllers own (an HPA's replicas, a
label a mutating webhook adds) is no drift, an ignore rule silences its path, and a workload
that cannot be scheduled leaves the platform Degraded with the scheduler's reason."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from shared.engine.live.check import LiveChecker
from shared.engine.resource import read_platform
from shared.engine.session import recorder_for
from shared.engine.wanted import wanted_components
from shared.helm import HelmClient
from shared.localstack.stack import Stack
from shared.values.spec.status import ComponentState
from tests.engine_support import SMALL_PROMETHEUS, SMALL_TEMPO, Engine, make_engine, platform
from tests.support import REPOSITORY_OF

CHARTS = Path(__file__).resolve().parents[1] / "charts"
SECRET = "drift-marker-4f7a9c"
"""A value written into a ConfigMap by hand: it must appear nowhere gunj writes."""


@pytest.fixture(params=["helm3", "helm4", "native"])
def form(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def drift_engine(form: str, local_stack: Stack, tmp_path: Path, engine_cache: Path) -> Engine:
    """The engine with Helm 3, with Helm 4, or for native mode (which runs no Helm)."""
    helm = HelmClient.for_path(
        local_stack.helm[4 if form == "helm4" else 3],
        home=tmp_path / "helm-home",
        plain_http_registries=frozenset({f"127.0.0.1:{local_stack.ports.oci}"}),
    )
    return make_engine(helm, local_stack, tmp_path, engine_cache)


def kubectl(stack: Stack, namespace: str, *args: str) -> str:
    """kubectl as a person runs it (its field managers are kubectl's own)."""
    return subprocess.run(
        [str(stack.kubectl), "--kubeconfig", str(stack.kubeconfig), "-n", namespace, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def spec(namespace: str, form: str, drift: dict[str, Any] | None = None) -> Any:
    extra: dict[str, Any] = {"driftDetection": drift} if drift else {}
    global_ = {"mode": "native", **extra} if form == "native" else extra
    return platform(
        namespace, **{"global": global_}, prometheus=SMALL_PROMETHEUS, tempo=SMALL_TEMPO
    )


def names(stack: Stack, namespace: str, kind: str) -> list[str]:
    listed = kubectl(stack, namespace, "get", kind, "-o", "jsonpath={.items[*].metadata.name}")
    return sorted(listed.split())


def prometheus_workload(stack: Stack, namespace: str) -> str:
    return next(n for n in names(stack, namespace, "deployment") if "prometheus" in n)


def tempo_workload(stack: Stack, namespace: str) -> tuple[str, str]:
    for kind in ("statefulset", "deployment"):
        for name in names(stack, namespace, kind):
            if "tempo" in name:
                return kind, name
    raise AssertionError("no tempo workload")


def prometheus_config(engine: Engine, namespace: str) -> tuple[str, str]:
    maps = engine.access.core.list_namespaced_config_map(namespace).items
    config = next(m for m in maps if "prometheus" in m.metadata.name and m.data)
    return config.metadata.name, sorted(config.data)[0]


def drift_everything(engine: Engine, stack: Stack, namespace: str) -> dict[str, str]:
    """Delete prometheus' Deployment, scale tempo's workload to 0, edit a key of prometheus'
    ConfigMap, change tempo's image and delete tempo's Service, as a person would; what was
    done to which object."""
    deployment = prometheus_workload(stack, namespace)
    kind, tempo = tempo_workload(stack, namespace)
    config, key = prometheus_config(engine, namespace)
    service = next(n for n in names(stack, namespace, "service") if "tempo" in n)
    container = kubectl(
        stack,
        namespace,
        "get",
        kind,
        tempo,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].name}",
    )
    kubectl(stack, namespace, "delete", "deployment", deployment)
    kubectl(stack, namespace, "scale", kind, tempo, "--replicas=0")
    patch = json.dumps({"data": {key: SECRET}})
    kubectl(stack, namespace, "patch", "configmap", config, "--type=merge", "-p", patch)
    kubectl(stack, namespace, "set", "image", f"{kind}/{tempo}", f"{container}=busybox:9.9")
    kubectl(stack, namespace, "delete", "service", service)
    return {
        "deployment": deployment,
        "tempo": tempo,
        "kind": kind,
        "config": config,
        "key": key,
        "service": service,
        "container": container,
    }


def everything_said(engine: Engine, namespace: str, outcome: Any) -> list[str]:
    stored = engine.status(namespace)
    return [
        json.dumps(outcome.to_json(), default=str),
        stored.model_dump_json(),
        json.dumps(engine.events(namespace)),
    ]


def test_drift_is_found_and_corrected_naming_objects_and_fields_never_values(
    drift_engine: Engine, form: str, namespace: str, local_stack: Stack
) -> None:
    engine = drift_engine
    wanted = spec(namespace, form)
    assert engine.apply(wanted).result == "ready"
    done = drift_everything(engine, local_stack, namespace)

    outcome = engine.apply(wanted)

    assert outcome.result == "corrected", outcome
    assert {c.component: c.actions for c in outcome.components} == {
        "prometheus": ("correct",),
        "tempo": ("correct",),
    }
    assert prometheus_workload(local_stack, namespace) == done["deployment"]
    assert done["service"] in names(local_stack, namespace, "service")
    replicas = kubectl(
        local_stack,
        namespace,
        "get",
        done["kind"],
        done["tempo"],
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}",
    )
    assert replicas.split()[0] == "1" and "busybox" not in replicas
    config = engine.access.core.read_namespaced_config_map(done["config"], namespace)
    assert config.data[done["key"]] != SECRET
    status = engine.status(namespace)
    assert status.phase == "Ready"
    for component in ("prometheus", "tempo"):
        assert status.components[component].drift == []
        assert status.components[component].last_corrected is not None
    drifted = "\n".join(m for _, reason, m in engine.events(namespace) if reason == "Drifted")
    assert f"{done['deployment']} is missing" in drifted
    assert f"Service {done['service']} is missing" in drifted
    assert "spec.replicas" in drifted
    assert f"spec.template.spec.containers[name={done['container']}].image" in drifted
    assert f"data.{done['key']}" in drifted
    assert "DriftCorrected" in [reason for _, reason, _ in engine.events(namespace)]
    for text in everything_said(engine, namespace, outcome):
        assert SECRET not in text
        assert "busybox" not in text
    # Corrected, and quiet again: the next look finds nothing.
    again = engine.apply(wanted)
    assert (again.result, [c.actions for c in again.components]) == ("ready", [(), ()])


def test_drift_in_warn_mode_is_reported_and_left_alone(
    drift_engine: Engine, form: str, namespace: str, local_stack: Stack
) -> None:
    engine = drift_engine
    wanted = spec(namespace, form, {"mode": "warn"})
    assert engine.apply(wanted).result == "ready"
    done = drift_everything(engine, local_stack, namespace)

    outcome = engine.apply(wanted)

    assert (outcome.result, outcome.exit_code) == ("drifted", 1), outcome
    assert [c.actions for c in outcome.components] == [(), ()]
    assert done["deployment"] not in names(local_stack, namespace, "deployment")
    assert done["service"] not in names(local_stack, namespace, "service")
    status = engine.status(namespace)
    assert status.phase == "Degraded"
    assert status.components["prometheus"].state == ComponentState.DRIFTED
    objects = {d.object: d for c in status.components.values() for d in c.drift}
    config = objects[f"ConfigMap {done['config']}"]
    assert (config.change, config.paths) == ("changed", [f"data.{done['key']}"])
    assert objects[f"Service {done['service']}"].change == "missing"
    condition = next(c for c in status.conditions if c.type == "Drifted")
    assert done["service"] in condition.message
    ready = next(c for c in status.conditions if c.type == "Ready")
    assert ready.reason == "Drifted"
    assert "Drifted" in [reason for _, reason, _ in engine.events(namespace)]
    for text in everything_said(engine, namespace, outcome):
        assert SECRET not in text
    # Reported once: the next look finds the status already says so, and writes nothing.
    before = engine.status(namespace)
    again = engine.apply(wanted)
    assert again.result == "drifted"
    assert engine.status(namespace) == before


def test_drift_with_detection_disabled_is_never_touched(
    drift_engine: Engine, form: str, namespace: str, local_stack: Stack
) -> None:
    engine = drift_engine
    wanted = spec(namespace, form, {"mode": "disabled"})
    assert engine.apply(wanted).result == "ready"
    done = drift_everything(engine, local_stack, namespace)

    outcome = engine.apply(wanted)

    # Not compared and not corrected; a workload that is gone is still not ready.
    assert outcome.result == "degraded", outcome
    assert [c.actions for c in outcome.components] == [(), ()]
    assert done["deployment"] not in names(local_stack, namespace, "deployment")
    config = engine.access.core.read_namespaced_config_map(done["config"], namespace)
    assert config.data[done["key"]] == SECRET
    status = engine.status(namespace)
    assert all(c.drift == [] for c in status.components.values())
    assert "does not exist" in status.components["prometheus"].not_ready


def test_an_ignore_rule_silences_its_path(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    ignore = {"ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "StatefulSet"}}]}
    wanted = spec(namespace, "helm", ignore)
    assert engine.apply(wanted).result == "ready"
    kind, tempo = tempo_workload(local_stack, namespace)

    kubectl(local_stack, namespace, "scale", kind, tempo, "--replicas=0")
    outcome = engine.apply(wanted)

    assert (outcome.result, [c.actions for c in outcome.components]) == ("ready", [(), ()])
    scaled = kubectl(local_stack, namespace, "get", kind, tempo, "-o", "jsonpath={.spec.replicas}")
    assert scaled == "0"


def test_replicas_an_autoscaler_sets_are_no_drift(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    wanted = spec(namespace, "helm")
    assert engine.apply(wanted).result == "ready"
    deployment = prometheus_workload(local_stack, namespace)
    autoscaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "prometheus"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
            "minReplicas": 2,
            "maxReplicas": 3,
        },
    }
    client.AutoscalingV2Api(engine.access.api).create_namespaced_horizontal_pod_autoscaler(
        namespace, autoscaler
    )
    # The HPA controller scales up to minReplicas, through the scale subresource.
    wait_for(
        lambda: (
            engine.access.apps.read_namespaced_deployment(deployment, namespace).spec.replicas == 2
        ),
        "the autoscaler's scale-up",
        timeout=90,
    )

    outcome = engine.apply(wanted)

    assert outcome.result == "ready", outcome
    assert [c.actions for c in outcome.components] == [(), ()]
    assert engine.access.apps.read_namespaced_deployment(deployment, namespace).spec.replicas == 2


def test_a_label_a_mutating_webhook_adds_is_no_drift(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    with mutating_webhook(engine, namespace, {"injected-by": "webhook"}):
        wanted = spec(namespace, "helm")
        assert engine.apply(wanted).result == "ready"
        deployment = prometheus_workload(local_stack, namespace)
        labels = engine.access.apps.read_namespaced_deployment(deployment, namespace).metadata
        assert labels.labels["injected-by"] == "webhook"  # the webhook is at work

        outcome = engine.apply(wanted)

    assert outcome.result == "ready", outcome
    assert [c.actions for c in outcome.components] == [(), ()]


def test_a_workload_that_cannot_be_scheduled_leaves_the_platform_degraded_saying_why(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    wanted = spec(namespace, "helm")
    assert engine.apply(wanted).result == "ready"
    deployment = prometheus_workload(local_stack, namespace)
    # Another controller (not a person) moves the pods onto nodes that do not exist: no drift
    # of the release's, but the new pod cannot be scheduled.
    patch = {"spec": {"template": {"spec": {"nodeSelector": {"gunj.io/test-pool": "none"}}}}}
    engine.access.apps.patch_namespaced_deployment(
        deployment, namespace, patch, field_manager="placement-controller"
    )
    wait_for(
        lambda: any(
            (p.status.conditions or []) and p.status.phase == "Pending"
            for p in engine.access.core.list_namespaced_pod(namespace).items
        ),
        "a pending pod",
    )

    outcome = engine.apply(wanted)

    assert outcome.result == "degraded", outcome
    component = engine.status(namespace).components["prometheus"]
    assert component.state == ComponentState.DEGRADED
    assert "unschedulable" in component.not_ready
    assert "node(s) didn't match Pod's node affinity/selector" in component.not_ready
    ready = next(c for c in engine.status(namespace).conditions if c.type == "Ready")
    assert ready.reason == "WorkloadsNotReady"


def _stable_versions() -> list[tuple[str, str]]:
    catalogue = yaml.safe_load((CHARTS / "catalogue.yaml").read_text())
    return [
        (chart["name"], entry["version"])
        for chart in catalogue["charts"]
        if chart["repository"] == REPOSITORY_OF[chart["name"]]
        for entry in chart["versions"]
        if "behaviour" not in entry
    ]


SMALL = {"prometheus": SMALL_PROMETHEUS, "tempo": SMALL_TEMPO}


@pytest.mark.parametrize(("chart", "version"), _stable_versions())
def test_every_test_chart_version_freshly_installed_shows_no_drift(
    engine: Engine, namespace: str, chart: str, version: str
) -> None:
    wanted = platform(namespace, **{chart: {**SMALL.get(chart, {}), "chartVersion": version}})
    assert engine.apply(wanted).result == "ready"

    assert_no_drift(engine, namespace, wanted)


def test_every_component_freshly_made_in_native_mode_shows_no_drift(
    engine_helm3: Engine, namespace: str
) -> None:
    wanted = platform(
        namespace,
        **{"global": {"mode": "native"}},
        prometheus=SMALL_PROMETHEUS,
        tempo=SMALL_TEMPO,
        loki={},
        grafana={},
    )
    assert engine_helm3.apply(wanted).result == "ready"

    assert_no_drift(engine_helm3, namespace, wanted)


def assert_no_drift(engine: Engine, namespace: str, wanted: Any) -> None:
    """Looked at twice: a fresh checker (every object compared by a dry run), then the engine's
    own (objects remembered as found right)."""
    stored = read_platform(engine.access, namespace, "obs")
    assert stored is not None
    reconciler = engine.reconciler
    kept = reconciler.live
    try:
        for checker in (LiveChecker(engine.access), kept):
            reconciler.live = checker
            recorder = recorder_for(reconciler, stored, paused=False, silent=True)
            for want in wanted_components(reconciler, recorder, wanted, stored):
                assert want.live is not None, want.component
                assert (want.live.drifted, want.live.unchecked) == ((), ()), want.component
                assert want.live.not_ready == (), want.component
    finally:
        reconciler.live = kept
    again = engine.apply(wanted)
    assert again.result == "ready", again
    assert all(c.actions == () for c in again.components)


# --- helpers -------------------------------------------------------------------------------------


def wait_for(ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def mutating_webhook(engine: Engine, namespace: str, labels: dict[str, str]) -> Iterator[None]:
    """A real mutating admission webhook (HTTPS on 127.0.0.1, where the local API server runs)
    that adds ``labels`` to the Deployments of ``namespace``."""
    with tempfile.TemporaryDirectory() as folder:
        certificate, key, authority = _certificate(Path(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(labels))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        name = f"gunj-test-{namespace}"[:63]
        webhooks = client.AdmissionregistrationV1Api(engine.access.api)
        webhooks.create_mutating_webhook_configuration(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": name},
                "webhooks": [
                    {
                        "name": "labels.gunj.test",
                        "admissionReviewVersions": ["v1"],
                        "sideEffects": "None",
                        "failurePolicy": "Ignore",
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": namespace}
                        },
                        "rules": [
                            {
                                "apiGroups": ["apps"],
                                "apiVersions": ["v1"],
                                "operations": ["CREATE", "UPDATE"],
                                "resources": ["deployments"],
                            }
                        ],
                        "clientConfig": {
                            "url": f"https://127.0.0.1:{server.server_address[1]}/mutate",
                            "caBundle": base64.b64encode(authority).decode(),
                        },
                    }
                ],
            }
        )
        try:
            yield
        finally:
            webhooks.delete_mutating_webhook_configuration(name)
            server.shutdown()


def _handler(labels: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class Mutate(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            obj = review["request"]["object"]
            patch = (
                [{"op": "add", "path": "/metadata/labels", "value": {}}]
                if not (obj.get("metadata") or {}).get("labels")
                else []
            )
            patch += [
                {"op": "add", "path": f"/metadata/labels/{k.replace('/', '~1')}", "value": v}
                for k, v in labels.items()
            ]
            answer = {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": {
                    "uid": review["request"]["uid"],
                    "allowed": True,
                    "patchType": "JSONPatch",
                    "patch": base64.b64encode(json.dumps(patch).encode()).decode(),
                },
            }
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    return Mutate


def _certificate(folder: Path) -> tuple[Path, Path, bytes]:
    """A certificate for 127.0.0.1 and the authority that signed it (its PEM)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gunj test authority")])
    authority = (
        x509.CertificateBuilder()
        .subject_name(authority_name)
        .issuer_name(authority_name)
        .public_key(authority_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(authority_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(authority_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "tls.crt", folder / "tls.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path, authority.public_bytes(serialization.Encoding.PEM)

"""gunj's own probe: a short-lived pod that asks the component's readiness endpoint, through its
Service, whether it is ready, as a Helm test pod would, for charts that ship no Helm test.

| component | Service (release ``<platform>-<component>``) | endpoint |
|---|---|---|
| prometheus | ``<release>-server:80`` | ``/-/ready`` |
| grafana | ``<release>:80`` | ``/api/health`` |
| loki | ``<release>:3100`` | ``/ready`` |
| tempo | ``<release>:3200`` | ``/ready`` |

The pod runs ``curl --fail`` with the restricted Pod Security profile, carries the labels of
its platform, component and chart version, is waited for like a Helm test pod (Succeeded passes,
Failed or no end in time fails), and is deleted afterwards.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from kubernetes import client

from ...kube import ClusterAccess
from ...kube.errors import ApiNotFound
from ...labels import CHART_LABEL, COMPONENT_LABEL, PLATFORM_LABEL, PROBE_LABEL
from ...values.names import service_host
from .pacing import pauses


@dataclass(frozen=True)
class Endpoint:
    service_suffix: str
    port: int
    path: str

    def url(self, release: str, namespace: str) -> str:
        host = service_host(release + self.service_suffix, namespace)
        return f"http://{host}:{self.port}{self.path}"


ENDPOINTS: dict[str, Endpoint] = {
    "prometheus": Endpoint("-server", 80, "/-/ready"),
    "grafana": Endpoint("", 80, "/api/health"),
    "loki": Endpoint("", 3100, "/ready"),
    "tempo": Endpoint("", 3200, "/ready"),
}


def label_value(text: str) -> str:
    """``text`` as a label value: letters, digits, ``-``, ``_`` and ``.`` (a native chart
    version's ``+`` becomes ``_``), at most 63, alphanumeric at both ends."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:63]
    return cleaned.strip("-_.")


@dataclass(frozen=True)
class ProbeResult:
    passed: bool
    message: str


def _pod(
    name: str,
    *,
    namespace: str,
    url: str,
    image: str,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    seconds: int,
) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(
            name=name, namespace=namespace, labels=dict(labels), annotations=dict(annotations)
        ),
        spec=client.V1PodSpec(
            restart_policy="Never",
            active_deadline_seconds=max(seconds, 1),
            automount_service_account_token=False,
            security_context=client.V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=65532,
                seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[
                client.V1Container(
                    name="probe",
                    image=image,
                    args=[
                        "--fail",
                        "--silent",
                        "--show-error",
                        "--max-time",
                        "10",
                        "--retry",
                        "5",
                        "--retry-all-errors",
                        "--retry-delay",
                        "2",
                        url,
                    ],
                    security_context=client.V1SecurityContext(
                        allow_privilege_escalation=False,
                        read_only_root_filesystem=True,
                        capabilities=client.V1Capabilities(drop=["ALL"]),
                    ),
                    resources=client.V1ResourceRequirements(
                        requests={"cpu": "10m", "memory": "16Mi"},
                        limits={"cpu": "100m", "memory": "32Mi"},
                    ),
                )
            ],
        ),
    )


def run_probe(
    access: ClusterAccess,
    *,
    platform: str,
    component: str,
    release: str,
    namespace: str,
    chart: str,
    image: str,
    annotations: Mapping[str, str],
    timeout: float,
) -> ProbeResult:
    endpoint = ENDPOINTS[component]
    url = endpoint.url(release, namespace)
    name = f"gunj-probe-{release}"[:52] + f"-{uuid.uuid4().hex[:6]}"
    labels = {
        PROBE_LABEL: "true",
        PLATFORM_LABEL: platform,
        COMPONENT_LABEL: component,
        CHART_LABEL: label_value(chart),
    }
    pod = _pod(
        name,
        namespace=namespace,
        url=url,
        image=image,
        labels=labels,
        annotations=annotations,
        seconds=int(timeout),
    )
    access.core.create_namespaced_pod(namespace, pod)
    try:
        return _wait(access, name, namespace, url, timeout)
    finally:
        with contextlib.suppress(ApiNotFound):  # gone already
            access.core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def _wait(
    access: ClusterAccess, name: str, namespace: str, url: str, timeout: float
) -> ProbeResult:
    deadline = time.monotonic() + timeout
    phase = "Pending"
    pause = pauses(deadline)
    while time.monotonic() < deadline:
        pod = access.core.read_namespaced_pod_status(name, namespace)
        phase = (pod.status.phase if pod.status else None) or "Pending"
        if phase == "Succeeded":
            return ProbeResult(True, f"probe of {url} passed")
        if phase == "Failed":
            reason = _termination(pod)
            return ProbeResult(False, f"probe of {url} failed{reason}")
        time.sleep(next(pause))
    return ProbeResult(False, f"probe of {url} did not finish within {int(timeout)}s ({phase})")


def _termination(pod: client.V1Pod) -> str:
    for status in (pod.status.container_statuses if pod.status else None) or []:
        terminated = status.state.terminated if status.state else None
        if terminated is not None:
            return f" (exit code {terminated.exit_code})"
    return ""

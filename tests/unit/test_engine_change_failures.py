"""What a failed install or upgrade spends. Helm often records the revision failed whatever
stopped it; only a failure that says something about the change (an object refused, the
release not ready in its time, more than the namespace's quota allows) counts against the
component's retries. The API server going away or a namespace being deleted ends the pass as
transient, and the event comes again with every retry left. Helm's messages are the ones it
prints on a real cluster (see tests/unit/test_helm_errors.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import pytest

from shared.engine.action import Action
from shared.engine.actions import RUNNERS, Step
from shared.engine.backends.helm import HelmBackend
from shared.engine.budget import operation_budget
from shared.engine.context import EngineContext
from shared.engine.decide import Decision
from shared.engine.desired import DesiredRelease
from shared.engine.settings import EngineSettings, SettingsError
from shared.helm import errors
from shared.helm.models import ReleaseStatus
from shared.helm.releases import ObservedRelease, ReleaseState
from shared.redaction import Redactor
from shared.values.spec import PrometheusSpec

DEPLOYED = ObservedRelease(
    "obs-prometheus",
    "monitoring",
    ReleaseState.DEPLOYED,
    ReleaseStatus.DEPLOYED,
    revision=1,
    content_digest="old",
)
FAILED = replace(DEPLOYED, state=ReleaseState.FAILED, status=ReleaseStatus.FAILED, revision=2)

UNREACHABLE = (
    'Error: UPGRADE FAILED: Kubernetes cluster unreachable: Get "https://127.0.0.1:46619/'
    'version": dial tcp 127.0.0.1:46619: connect: connection refused'
)
QUOTA = (
    "Error: UPGRADE FAILED: 1 error occurred:\n"
    '\t* configmaps "x-prometheus-server" is forbidden: exceeded quota: q-cm, requested: '
    "count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=0\n\n\n"
)
TERMINATING = (
    'Error: UPGRADE FAILED: create: failed to create: secrets "sh.helm.release.v1.x.v2" is '
    "forbidden: unable to create new content in namespace monitoring because it is being "
    "terminated"
)
NOT_READY = (
    "Error: UPGRADE FAILED: resource Deployment/monitoring/x-prometheus-server not ready. "
    "status: InProgress, message: Replicas: 0/1\ncontext deadline exceeded"
)
REFUSED = (
    'Error: UPGRADE FAILED: failed to create resource: ConfigMap "x" is invalid: data[a b]: '
    "Invalid value"
)


@dataclass
class Store:
    """The release as Helm left it."""

    after: ObservedRelease

    def observe(self, release: str, namespace: str, *_: Any) -> ObservedRelease:
        return self.after


@dataclass
class Backend:
    """Helm, failing with what it printed, and the revision it recorded."""

    stderr: str
    store: Store
    mode: str = "helm"

    def change(self, *_: Any) -> None:
        raise errors.classify(self.stderr, ["helm", "upgrade", "obs-prometheus"])


def upgrade(stderr: str, after: ObservedRelease = FAILED, backend: Any = None) -> Any:
    spec = PrometheusSpec.model_validate({"remediation": {"retries": 2}})
    desired = DesiredRelease(
        component="prometheus",
        release="obs-prometheus",
        namespace="monitoring",
        repository="https://prometheus-community.github.io/helm-charts",
        chart="prometheus",
        version="29.27.0",
        app_version="v3.14.0",
        values={},
        digest="new",
        budget=operation_budget(spec),
        spec=spec,
    )
    ctx = EngineContext(
        platform="obs",
        namespace="monitoring",
        helm=None,
        access=cast(Any, None),
        charts=cast(Any, None),
        redactor=Redactor(),
        settings=EngineSettings(helm_binary=None, cache=Path("/nonexistent")),
    )
    decision = Decision(Action.UPGRADE, "Progressing", "values differ")
    backend = backend or Backend(stderr, Store(after))
    step = Step("prometheus", desired, DEPLOYED, decision, backend)
    return RUNNERS[Action.UPGRADE](ctx, step)


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        pytest.param(UNREACHABLE, errors.ClusterUnreachable, id="api-server-unreachable"),
        pytest.param(TERMINATING, errors.NamespaceTerminating, id="namespace-terminating"),
    ],
)
def test_a_transient_failure_spends_no_retry_though_helm_recorded_it(
    stderr: str, kind: type[errors.HelmError]
) -> None:
    # Raised, not reported as a failed attempt: the pass ends transient and the component's
    # failure count is left as it was.
    with pytest.raises(kind) as raised:
        upgrade(stderr)

    assert raised.value.transient


def test_the_same_failure_before_anything_was_recorded_ends_the_pass_too() -> None:
    with pytest.raises(errors.ClusterUnreachable):
        upgrade(UNREACHABLE, after=DEPLOYED)


@pytest.mark.parametrize(
    ("stderr", "hopeless"),
    [
        pytest.param(NOT_READY, False, id="not-ready-in-time"),
        pytest.param(QUOTA, False, id="over-the-quota"),
        pytest.param(REFUSED, False, id="object-refused"),
    ],
)
def test_a_change_that_failed_on_its_own_counts_against_the_retries(
    stderr: str, hopeless: bool
) -> None:
    result = upgrade(stderr)

    assert not result.ok
    assert result.counts_as_failure and result.hopeless is hopeless
    assert result.revision == FAILED.revision


def test_a_timeout_before_helm_recorded_anything_counts_nothing() -> None:
    # Helm stopped before it wrote a revision: nothing ran that could be judged.
    with pytest.raises(errors.HelmTimeout):
        upgrade(NOT_READY, after=DEPLOYED)


def test_no_helm_binary_is_no_failed_attempt() -> None:
    # The real Helm backend in a process without Helm: nothing was tried, so nothing counts,
    # and the error names the setting to fix.
    backend = HelmBackend(cast(Any, Store(DEPLOYED)), native=cast(Any, None))

    with pytest.raises(SettingsError) as raised:
        upgrade(REFUSED, backend=backend)

    assert not raised.value.transient
    assert "upgrade of obs-prometheus needs Helm" in str(raised.value)
    assert "GUNJ_HELM_BINARY" in str(raised.value)

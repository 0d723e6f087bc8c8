"""What every step of a reconcile works with: the target cluster and namespace, Helm, charts,
the redactor, the clock, the invocation's deadline and the platform's Lease. (How a component is
made, Helm or native, travels with each step: :class:`~.actions.step.Step`.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..helm.charts import ChartLibrary
from ..helm.client import HelmClient, KubeTarget
from ..helm.process import STOP_GRACE
from ..kube import ClusterAccess
from ..kube.lease import Lease
from ..redaction import Redactor
from .errors import Deferred, OutOfTime
from .live.check import LiveChecker
from .settings import NO_HELM, EngineSettings, SettingsError

# An operation is not started with less time than this left (or than it asks for, if less).
SHORTEST_OPERATION = timedelta(seconds=60)

Progress = Callable[[str, str], None]
"""Told (component, what is happening now) as the reconcile goes."""


def quiet(component: str, message: str) -> None:
    """Progress told to no one."""
    pass


@dataclass
class EngineContext:
    platform: str
    namespace: str
    helm: HelmClient | None
    """None: no Helm binary (see :meth:`require_helm`)."""
    access: ClusterAccess
    charts: ChartLibrary
    redactor: Redactor
    settings: EngineSettings
    deadline: float | None = None
    """time.monotonic() by which the invocation must be done; None: no limit."""
    progress: Progress = quiet
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lease: Lease | None = None
    """The platform's Lease, held while the work runs."""
    live: LiveChecker | None = None
    """Looks at the live objects (None: nothing looks)."""

    def require_helm(self, what: str) -> HelmClient:
        """Helm, for ``what`` (an operation of a release). With no Helm binary, a permanent
        error naming the setting: it says nothing about the release, so it is no failed
        attempt of the component's, and nothing is rolled back for it."""
        missing = self.settings.missing_helm()
        if self.helm is None or missing:
            raise SettingsError(f"{what} needs Helm: {missing or NO_HELM}")
        return self.helm

    @property
    def target(self) -> KubeTarget:
        return KubeTarget(
            namespace=self.namespace,
            kubeconfig=self.access.kubeconfig,
            context=self.access.context,
            as_user=self.access.acting_as,
        )

    def remaining(self) -> timedelta | None:
        if self.deadline is None:
            return None
        return timedelta(seconds=self.deadline - time.monotonic())

    def operation_timeout(self, wanted: timedelta, what: str) -> timedelta:
        """The time an operation gets: what it asks for, cut to what the invocation has left;
        OutOfTime when too little is left to start it (the next event resumes); Deferred when
        the Lease was lost (another reconcile may hold it now)."""
        if self.lease is not None and self.lease.lost.is_set():
            raise Deferred(f"lost the platform's Lease before {what}; stepping aside")
        left = self.remaining()
        if left is None:
            return wanted
        available = left - STOP_GRACE
        if available < min(wanted, SHORTEST_OPERATION):
            raise OutOfTime(f"{what} needs {wanted}; this invocation has {max(left, timedelta())}")
        return min(wanted, available)

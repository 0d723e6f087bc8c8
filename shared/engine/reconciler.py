"""The engine's entry points for one target cluster: apply a spec, uninstall a platform, roll a
component back (for a person or a health alert), lift a quarantine. Each ends in one
:class:`~.outcome.Outcome`; none raises for a failure of the cluster, a repository or the spec.

A :class:`Reconciler` holds the parts it wires together once per cluster and process (Helm,
the chart library, the version resolver, the release stores and backends, the Event recorder)
and hands them, with a redactor for that piece of work alone (:mod:`.scope`), to the modules
that do the work, as :class:`~.parts.EngineParts`:
:mod:`.look` (the lock-free look), :mod:`.applying` (the apply under the Lease),
:mod:`.operations` (everything else) and :mod:`.session` (work under a Lease).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ..clusters.errors import NamespaceNotAllowed
from ..clusters.google import GoogleCloud
from ..clusters.secretgrant import GrantedSecrets, SecretGrant
from ..clusters.tenancy import Tenancy
from ..events.alerts import Alert
from ..helm.binary import HelmBinary
from ..helm.charts import ChartLibrary
from ..helm.client import HelmClient
from ..helm.releases import ReleaseStore
from ..helm.repositories import RepositorySettings
from ..kube import ClusterAccess
from ..kube.events import EventRecorder
from ..native.store import OWNER as NATIVE_OWNER
from ..native.store import NativeStore
from ..redaction import Redactor
from ..values.spec import ObservabilityPlatform
from . import operations
from .alert_target import Target
from .applying import reconcile
from .backends import Backend
from .backends.helm import HelmBackend
from .backends.native import NativeBackend
from .guard import guarded
from .holder import process_identity
from .live.check import LiveChecker
from .outcome import Outcome
from .quarantine import FleetHolds
from .request import Request
from .resolution import VersionResolver
from .resource import ensure_crd, platform_of, read_platform
from .scope import ReconcileParts, one_reconcile
from .session import Session, on_platform
from .settings import EngineSettings


@dataclass
class Reconciler:
    """Reconciles platforms in one cluster (one instance per cluster and process)."""

    cluster: str
    access: ClusterAccess
    settings: EngineSettings
    repositories: RepositorySettings = field(default_factory=RepositorySettings.from_environment)
    redactor: Redactor = field(default_factory=Redactor)
    """The connection's credentials; each piece of work scrubs with a copy of its own."""
    allow_templates: bool = False
    tenancy: Tenancy = field(default_factory=Tenancy)
    """Where platforms may live, and whose rights their work has (:mod:`..clusters.tenancy`)."""
    secret_grant: SecretGrant | None = None
    """The Secret Manager secrets specs may read (the registry's secretManager; None: none)."""
    cloud: GoogleCloud = field(default_factory=GoogleCloud, repr=False)
    """Reads them (the registry's Google client)."""
    identity: str = field(default_factory=process_identity)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    keep_alive: object = field(default=None, repr=False)
    """What must live as long as the reconciler (a connection's private kubeconfig)."""
    fleet: FleetHolds | None = field(default=None, repr=False)
    """What every cluster of the fleet holds (None: no fleet store, the cluster alone)."""

    def __post_init__(self) -> None:
        # Without a Helm binary the engine still runs native components; whatever needs Helm
        # says what is missing (EngineContext.require_helm).
        binary = self.settings.helm_binary
        self.helm: HelmClient | None = (
            HelmClient(
                HelmBinary(binary),
                home=self.settings.cache / "helm",
                plain_http_registries=self.repositories.plain_http_hosts,
                redactor=self.redactor,
            )
            if binary is not None
            else None
        )
        self.charts = ChartLibrary(self.repositories, self.settings.cache)
        self.resolver = VersionResolver(
            self.charts, self.settings.cache, self.settings.version_recheck
        )
        helm_store = ReleaseStore(self.access)
        native_store = ReleaseStore(self.access, owner=NATIVE_OWNER)
        self.backends: Mapping[str, Backend] = {
            "helm": HelmBackend(helm_store, native=native_store),
            "native": NativeBackend(native_store, NativeStore(self.access), helm=helm_store),
        }
        self.events = EventRecorder(self.access, "gunj", self.identity, self.redactor)
        self.live = LiveChecker(self.access)
        self.secret_manager = GrantedSecrets(self.cluster, self.secret_grant, self.cloud)
        self._namespaces: set[str] = set()
        self._tenants: dict[str, Reconciler] = {}
        self._tenants_lock = threading.Lock()

    def scoped(self) -> ReconcileParts:
        """The parts for one piece of work, with a redactor of its own (:mod:`.scope`)."""
        return one_reconcile(self)

    def in_namespace(self, namespace: str) -> Reconciler:
        """The reconciler for platforms in ``namespace``: one whose every request and Helm
        process acts as the ServiceAccount the registry names for it (this one, when it names
        none). NamespaceNotAllowed where the registry allows no platform there."""
        access = self.tenancy.access_in(self.access, self.cluster, namespace)
        if access is self.access:
            return self
        with self._tenants_lock:
            tenant = self._tenants.get(namespace)
            if tenant is None:
                tenant = replace(self, access=access)
                self._tenants[namespace] = tenant
            return tenant

    def _prepare(self, namespace: str) -> None:
        """The namespace (unless a ServiceAccount of it is to act there: then it must exist
        already) and the current CRD, with the registry's own credentials."""
        if self.tenancy.service_account is None and namespace not in self._namespaces:
            self.access.ensure_namespace(namespace)
            self._namespaces.add(namespace)
        ensure_crd(self.access)

    def _in(
        self,
        namespace: str,
        name: str,
        work: Callable[[ReconcileParts], Outcome],
        *,
        generation: int | None = None,
        started: float | None = None,
    ) -> Outcome:
        """``work`` with the parts of the reconciler for ``namespace`` (and a redactor of its
        own); refused where the registry allows no platform."""
        started = time.monotonic() if started is None else started
        where = f"{namespace}/{name}"
        try:
            parts = self.in_namespace(namespace).scoped()
        except NamespaceNotAllowed as error:
            refusal = error

            def refuse() -> Outcome:
                raise refusal

            return guarded(self.scoped(), where, generation, started, refuse)
        outcome = guarded(parts, where, generation, started, lambda: work(parts))
        if parts.fleet is not None and parts.fleet.notes:
            # The fleet's holds could not be read: the platform's own held; say so.
            outcome = replace(
                outcome, message=f"{outcome.message} ({'; '.join(parts.fleet.notes)})"
            )
        return outcome

    def apply(self, platform: ObservabilityPlatform, request: Request | None = None) -> Outcome:
        """Make the cluster match ``platform``."""
        request = request or Request()
        namespace, name = platform.metadata.namespace, platform.metadata.name
        started = time.monotonic()

        def work(parts: ReconcileParts) -> Outcome:
            self._prepare(namespace)
            return reconcile(parts, platform, request)

        return self._in(namespace, name, work, generation=request.generation, started=started)

    def resync(self, namespace: str, name: str, request: Request | None = None) -> Outcome:
        """Reconcile a platform from the spec its cluster holds: what a scheduled resync does
        for every platform, and ``gunj resync`` for one. Drift is found and corrected, and the
        time of the look recorded, with no spec message."""
        request = replace(request or Request(), resync=True, generation=None, message_id=None)
        held: list[ObservabilityPlatform] = []

        def read() -> Outcome:
            stored = read_platform(self.access, namespace, name)
            if stored is None:
                return Outcome("ignored", f"platform {namespace}/{name} is not in {self.cluster}")
            try:
                held.append(platform_of(stored))
            except ValueError as error:
                return Outcome(
                    "invalid", f"the spec the cluster holds is not valid: {type(error).__name__}"
                )
            return Outcome("ready", "")

        found = guarded(self.scoped(), f"{namespace}/{name}", None, time.monotonic(), read)
        return self.apply(held[0], request) if held else found

    def uninstall(self, namespace: str, name: str, request: Request | None = None) -> Outcome:
        """Remove every release the platform owns (and nothing else), then the object."""
        return self._in(
            namespace,
            name,
            lambda parts: operations.uninstall(parts, namespace, name, request or Request()),
        )

    def rollback(
        self,
        namespace: str,
        name: str,
        component: str,
        *,
        to_revision: int | None = None,
        request: Request | None = None,
    ) -> Outcome:
        """Roll a component back (to its last good revision unless told), verify what was
        restored, and quarantine the chart version rolled back from, so the next reconcile
        holds the component instead of upgrading it again."""
        return self._in(
            namespace,
            name,
            lambda parts: operations.rollback(
                parts,
                namespace,
                name,
                component,
                to_revision=to_revision,
                request=request or Request(),
            ),
        )

    def roll_back_for_alert(
        self, target: Target, alert: Alert, request: Request | None = None
    ) -> Outcome:
        """Judge a health alert about a component, and roll it back when the alert followed a
        change of gunj's within the bake window."""
        return self._in(
            target.namespace,
            target.platform,
            lambda parts: operations.roll_back_for_alert(
                parts, target, alert, request or Request()
            ),
        )

    def unquarantine(self, namespace: str, name: str, component: str, version: str) -> Outcome:
        """Lift a quarantine: reconcile may apply that chart version again."""
        return self._in(
            namespace,
            name,
            lambda parts: operations.unquarantine(parts, namespace, name, component, version),
        )

    def on_platform(
        self,
        namespace: str,
        name: str,
        request: Request,
        work: Callable[[Session], Outcome],
        *,
        missing: Outcome | None = None,
    ) -> Outcome:
        """Run ``work`` on an existing platform under its Lease (:func:`.session.on_platform`)."""
        return self._in(
            namespace,
            name,
            lambda parts: on_platform(parts, namespace, name, request, work, missing=missing),
        )

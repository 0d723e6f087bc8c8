"""One upgrade check of the fleet: every platform of every registered cluster (or of those
asked for), each repository fetched once (:class:`.catalog.RunCatalog`), one report per
platform, and, where a spec allows it, one automatic spec change per platform at a time."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from kubernetes import client

from ..engine.resource import StoredPlatform, list_platforms, platform_of
from ..engine.sources import SecretSources
from ..errors import GunjError
from ..fleet import quarantines
from ..fleet.store import FleetStoreError, Store
from ..kube import ClusterAccess
from ..kube.errors import ApiError
from ..values.build import PlatformContext
from ..values.plan import plan_component, spec_mode
from ..values.spec.status import UpgradeProposal
from ..versions import InvalidVersion, parse_version
from .catalog import RunCatalog
from .check import ComponentCheck, Kubernetes, check_component, refuse_incompatible

# A proposal not applied within this long (lost, dead-lettered) no longer blocks the next one.
PROPOSAL_EXPIRES = timedelta(days=1)


@dataclass
class PlatformReport:
    cluster: str
    namespace: str
    name: str
    checked_at: datetime
    components: list[ComponentCheck] = field(default_factory=list)
    error: str | None = None
    proposal: dict[str, str] = field(default_factory=dict)
    """component -> chart version an automatic upgrade goes to."""
    proposal_note: str = ""
    kubernetes: Kubernetes = field(default_factory=lambda: Kubernetes(None, "not read"))
    """The cluster's Kubernetes version the proposals were checked against."""
    stored: StoredPlatform | None = field(default=None, repr=False)
    """The platform as the check read it (what a proposal was worked out from)."""

    @property
    def platform(self) -> str:
        return f"{self.namespace}/{self.name}"

    def available(self) -> str:
        """One line for the platform's status and ``kubectl get op``: chart versions only (a
        native-mode component has none to offer)."""
        offers = []
        for check in self.components:
            best = check.newest_major or check.newest_minor or check.newest_patch
            if best is not None:
                offers.append(f"{check.component} {best.version} ({best.kind})")
        return "; ".join(offers) if offers else "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "platform",
            "platform": self.platform,
            "cluster": self.cluster,
            "kubernetes": self.kubernetes.version,
            "checked_at": self.checked_at.isoformat(),
            "available": self.available(),
            "components": [check.to_json() for check in self.components],
            "error": self.error,
            "proposal": self.proposal,
            "proposal_note": self.proposal_note,
        }


def in_flight(stored: StoredPlatform, now: datetime) -> UpgradeProposal | None:
    """An automatic change proposed earlier that the platform has not yet taken up."""
    upgrades = stored.status.upgrades
    proposal = upgrades.proposal if upgrades else None
    if proposal is None or now - proposal.time > PROPOSAL_EXPIRES:
        return None
    applied = (stored.published_generation or 0) >= proposal.generation
    settled = applied and stored.status.phase in {"Ready", "Degraded", "Failed"}
    return None if settled else proposal


def check_platform(
    cluster: str,
    stored: StoredPlatform,
    catalog: RunCatalog,
    now: datetime,
    kubernetes: Kubernetes,
    *,
    sources: SecretSources | None = None,
    fleet: FleetQuarantined | None = None,
) -> PlatformReport:
    """``sources``: the platform's namespace in its cluster, for the repository credentials its
    spec names (without it, a component that names some is reported as not checked);
    ``fleet``: what the fleet holds (None: no fleet store)."""
    report = PlatformReport(
        cluster, stored.namespace, stored.name, now, stored=stored, kubernetes=kubernetes
    )
    try:
        platform = platform_of(stored)
    except ValueError as error:
        report.error = f"the stored spec does not parse: {error}"
        return report
    context = PlatformContext.of(platform)
    for component in platform.spec.enabled():
        plan = plan_component(platform, component, context)
        record = stored.status.components.get(component)
        if record is not None and spec_mode(platform, plan.spec) is None:
            # The process's default mode picks a form for new components only: an installed
            # one keeps its form unless the spec names another (as reconcile decides).
            plan = replace(plan, mode=record.mode)
        # Only whole versions: a version held with some values only may be proposed.
        quarantined = [
            q.chart_version
            for q in stored.status.quarantined_versions
            if q.component == component and q.whole_version
        ]
        if fleet is not None:
            quarantined += fleet.versions(component, plan.chart)
        report.components.append(
            check_component(
                plan,
                record,
                catalog,
                quarantined,
                kubernetes,
                sources=sources,
                now=now,
            )
        )
    refuse_incompatible(report.components)
    proposals = {c.component: c.proposal for c in report.components if c.proposal}
    if proposals:
        busy = in_flight(stored, now)
        if fleet is not None and fleet.unreadable:
            report.proposal_note = f"not proposed now: {fleet.unreadable}"
        elif busy is not None:
            report.proposal_note = (
                f"an automatic change (generation {busy.generation}) is still in flight"
            )
        else:
            report.proposal = proposals
    return report


@dataclass(frozen=True)
class FleetQuarantined:
    """The chart versions held on every cluster (read once per check run), or why the fleet
    store could not say: then no automatic upgrade is proposed, since it could bring one."""

    held: tuple[quarantines.FleetQuarantine, ...] = ()
    unreadable: str = ""

    @classmethod
    def read(cls, store: Store) -> FleetQuarantined:
        try:
            return cls(tuple(q for q in quarantines.list_all(store) if q.digest is None))
        except FleetStoreError as error:
            return cls(unreadable=f"the fleet's quarantines could not be read: {error}")

    def versions(self, component: str, chart: str) -> list[str]:
        return [q.chart_version for q in self.held if q.component == component and q.chart == chart]


def kubernetes_version(access: ClusterAccess) -> Kubernetes:
    """The cluster's version as Helm sees it (``/version``'s gitVersion), or why it is unknown."""
    try:
        version = str(client.VersionApi(access.api).get_code().git_version)
    except ApiError as error:
        return Kubernetes(None, str(error.doing("reading the Kubernetes version")))
    try:
        parse_version(version)
    except InvalidVersion:
        return Kubernetes(None, f"the cluster reports {version!r}, which is not a version")
    return Kubernetes(version)


class AccessOf(Protocol):
    def __call__(self, cluster: str, namespace: str | None = None) -> ClusterAccess:
        """How requests reach ``cluster``: for ``namespace``, as the identity the registry
        names for it; else with the registry's own."""
        ...


class ClusterFailure(str):
    """Why a cluster could not be read, as text (what reports show), and whether it is
    transient: out of reach now, worth trying again later."""

    transient: bool

    def __new__(cls, reason: str, *, transient: bool = False) -> ClusterFailure:
        failure = super().__new__(cls, reason)
        failure.transient = transient
        return failure


def check_fleet(
    clusters: Iterable[str],
    access_of: AccessOf,
    catalog: RunCatalog,
    *,
    platform: str | None = None,
    now: datetime | None = None,
    until: float | None = None,
    fleet_store: Store | None = None,
) -> tuple[list[PlatformReport], dict[str, ClusterFailure]]:
    """Reports for every platform (``platform``: only those named NAME or NAMESPACE/NAME),
    and the clusters that could not be read, with why. ``until``: the time.monotonic() after
    which no further cluster is read nor platform checked; the clusters left are reported as
    not checked (the next run checks them). ``fleet_store``: versions quarantined fleet-wide
    are offered nowhere."""
    now = now or datetime.now(UTC)
    fleet = FleetQuarantined.read(fleet_store) if fleet_store is not None else None
    reports: list[PlatformReport] = []
    failed: dict[str, ClusterFailure] = {}
    for cluster in clusters:
        if until is not None and time.monotonic() >= until:
            failed[cluster] = ClusterFailure("not checked: the run's time was up", transient=True)
            continue
        try:
            access = access_of(cluster)
            stored_platforms = list_platforms(access)
        except GunjError as error:
            if isinstance(error, ApiError):
                error = error.doing(f"listing platforms in {cluster}")
            failed[cluster] = ClusterFailure(str(error), transient=error.transient)
            continue
        kubernetes: Kubernetes | None = None
        for index, stored in enumerate(stored_platforms):
            if platform and platform not in {stored.name, f"{stored.namespace}/{stored.name}"}:
                continue
            if until is not None and time.monotonic() >= until:
                left = len(stored_platforms) - index
                failed[cluster] = ClusterFailure(
                    f"{left} platform(s) not checked: the run's time was up", transient=True
                )
                break
            try:
                acting = access_of(cluster, stored.namespace)
            except GunjError as error:  # a namespace the registry allows no platform in
                failed[cluster] = ClusterFailure(str(error))
                continue
            kubernetes = kubernetes or kubernetes_version(access)  # once per cluster
            report = check_platform(
                cluster,
                stored,
                catalog,
                now,
                kubernetes,
                sources=SecretSources(acting, stored.namespace),
                fleet=fleet,
            )
            reports.append(report)
    return reports, failed


def proposed_spec(stored: StoredPlatform, versions: dict[str, str]) -> dict[str, Any]:
    """The platform's spec as ``stored`` holds it, with each proposed chart version pinned."""
    spec = {key: value for key, value in stored.spec.items()}
    for component, version in versions.items():
        spec[component] = {**spec.get(component, {}), "chartVersion": version}
    return {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": stored.name, "namespace": stored.namespace},
        "spec": spec,
    }

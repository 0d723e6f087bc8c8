"""The engine's parts for one reconcile (or one look, plan, rollback or alert's judgement): the
cluster's own, with a redactor of its own.

A :class:`~.reconciler.Reconciler` lives as long as its function instance and serves every
event for its cluster, several at once. Its redactor knows the connection's credentials only.
Each piece of work starts from a copy (:func:`one_reconcile`), which learns the secrets that
work reads (``valuesFrom`` content, repository passwords) and is dropped when it ends: one
platform's secrets are not kept for the instance's lifetime, and do not scrub (and so reveal
themselves in) another platform's messages. Helm and the Event recorder scrub with it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..clusters.secretgrant import GrantedSecrets
    from ..helm.charts import ChartLibrary
    from ..helm.client import HelmClient
    from ..kube import ClusterAccess
    from ..kube.events import EventRecorder
    from ..redaction import Redactor
    from .backends import Backend
    from .live.check import LiveChecker
    from .parts import EngineParts
    from .quarantine import FleetHolds
    from .resolution import VersionResolver
    from .settings import EngineSettings


@dataclass
class ReconcileParts:
    """:class:`~.parts.EngineParts` for one piece of work."""

    cluster: str
    access: ClusterAccess
    settings: EngineSettings
    redactor: Redactor
    allow_templates: bool
    secret_manager: GrantedSecrets
    identity: str
    helm: HelmClient | None
    charts: ChartLibrary
    resolver: VersionResolver
    backends: Mapping[str, Backend]
    events: EventRecorder
    live: LiveChecker
    clock: Callable[[], datetime]
    fleet: FleetHolds | None = None


def one_reconcile(parts: EngineParts) -> ReconcileParts:
    """``parts`` with a copy of their redactor, which Helm and the Events scrub with too."""
    redactor = parts.redactor.copy()
    return ReconcileParts(
        cluster=parts.cluster,
        access=parts.access,
        settings=parts.settings,
        redactor=redactor,
        allow_templates=parts.allow_templates,
        secret_manager=parts.secret_manager,
        identity=parts.identity,
        helm=replace(parts.helm, redactor=redactor) if parts.helm is not None else None,
        charts=parts.charts,
        resolver=parts.resolver,
        backends=parts.backends,
        events=parts.events.scrubbing_with(redactor),
        live=parts.live,
        clock=parts.clock,
        fleet=parts.fleet.fresh() if parts.fleet is not None else None,
    )

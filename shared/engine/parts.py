"""What the engine's functions need of a :class:`~.reconciler.Reconciler`: the parts it wires
together for one cluster, and nothing of its entry points. Each module below the Reconciler
takes these parts, so none of them imports the Reconciler (and no import runs in a circle)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..clusters.secretgrant import GrantedSecrets
    from ..helm.charts import ChartLibrary
    from ..helm.client import HelmClient
    from ..kube import ClusterAccess
    from ..kube.events import EventRecorder
    from ..redaction import Redactor
    from .backends import Backend
    from .live.check import LiveChecker
    from .quarantine import FleetHolds
    from .resolution import VersionResolver
    from .settings import EngineSettings


class EngineParts(Protocol):
    cluster: str
    """The registered name of the cluster."""
    access: ClusterAccess
    settings: EngineSettings
    redactor: Redactor
    """Every secret the engine learns, scrubbed from everything it says."""
    allow_templates: bool
    """The cluster's registry entry lets spec strings reach the charts' ``tpl``."""
    secret_manager: GrantedSecrets
    """The Secret Manager versions the cluster's registry entry lets ``valuesFrom`` read."""
    identity: str
    """Who holds a platform's Lease (host, process)."""
    helm: HelmClient | None
    """None: no Helm binary here."""
    charts: ChartLibrary
    resolver: VersionResolver
    backends: Mapping[str, Backend]
    """How a component is made, by mode (helm, native)."""
    events: EventRecorder
    live: LiveChecker
    """Looks at the live objects of the cluster's releases (remembers what it found right)."""
    fleet: FleetHolds | None
    """What every cluster of the fleet holds (None: no fleet store)."""

    @property
    def clock(self) -> Callable[[], datetime]:
        """Now, as the engine reads it (a test's clock, or the real one)."""
        ...

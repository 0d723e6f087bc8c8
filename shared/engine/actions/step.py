"""What an action is asked to do: for which component, on which observed release, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...helm.releases import ObservedRelease
from ..backends import Backend
from ..decide import Decision
from ..desired import DesiredRelease
from ..live.ignore import DriftSettings
from ..live.state import LiveState


@dataclass(frozen=True)
class Step:
    component: str
    desired: DesiredRelease | None
    """None when the component is no longer wanted (uninstall)."""
    observed: ObservedRelease
    decision: Decision
    backend: Backend
    """Helm or native: how this component's release is made and read."""
    live: LiveState | None = None
    """What the cluster holds of the release (for a correction)."""
    drift: DriftSettings = field(default_factory=DriftSettings)

    @property
    def release(self) -> str:
        return self.observed.name

    def require_desired(self) -> DesiredRelease:
        """The desired release, for an action that cannot run without one."""
        if self.desired is None:
            raise ValueError(f"{self.decision.action} of {self.component} needs the desired state")
        return self.desired

"""Which way a component is made: with Helm or natively (plain manifests applied by gunj).

``GUNJ_MANAGER_MODE`` sets the default for the process (helm unless set), ``spec.global.mode``
for a platform and ``spec.<component>.mode`` for one component (:func:`shared.values.plan.
resolve_mode`). A component asked for in Helm mode falls back to native mode only when Helm
cannot make it (no Helm binary, or its chart cannot be fetched), only if it has no Helm release
yet, and only if ``GUNJ_NATIVE_FALLBACK`` allows it; the status and an Event say so. A component
that fell back stays native until the spec names its mode explicitly: switching is a person's
decision, and a switch makes the new form ready before it removes the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import GunjError
from ..helm.releases import ObservedRelease, ReleaseState
from ..values.spec.common import Mode


class HelmUnavailable(GunjError):
    """Helm cannot make the component now and native mode may not stand in."""

    transient = True


@dataclass(frozen=True)
class ModeChoice:
    mode: Mode
    fallback: str | None = None
    """Why native mode stands in for Helm (None: the mode asked for)."""


def _present(observed: ObservedRelease | None) -> bool:
    return observed is not None and observed.state is not ReleaseState.ABSENT


def choose_mode(
    requested: Mode,
    explicit: bool,
    forms: Mapping[str, ObservedRelease],
    helm_problem: Callable[[], str | None],
    *,
    fallback_allowed: bool,
    component: str,
) -> ModeChoice:
    """The mode to reconcile a component in. ``forms``: its Helm and native releases as they
    are; ``helm_problem``: why Helm cannot make it now (None: it can), asked only when it
    matters."""
    if requested == "native":
        return ModeChoice("native")
    if _present(forms.get("helm")):
        return ModeChoice("helm")
    if _present(forms.get("native")) and not explicit:
        return ModeChoice("native", "it fell back to native mode earlier; set its mode to switch")
    problem = helm_problem()
    if problem is None:
        return ModeChoice("helm")
    if _present(forms.get("native")) or fallback_allowed:
        return ModeChoice("native", problem)
    raise HelmUnavailable(
        f"{component}: Helm cannot install it ({problem}), and falling back to native mode is "
        "not allowed (GUNJ_NATIVE_FALLBACK)"
    )

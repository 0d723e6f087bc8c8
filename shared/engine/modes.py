"""Which way a component is made: with Helm or natively (plain manifests applied by gunj).

``GUNJ_MANAGER_MODE`` sets the default for the process (helm unless set), ``spec.global.mode``
for a platform and ``spec.<component>.mode`` for one component (:func:`shared.values.plan.
resolve_mode`). The process default only chooses the form of a component that has none yet: an
installed component keeps its form until the spec names another, because switching is a
person's decision (a switch makes the new form ready before it removes the old one). A component
asked for in Helm mode falls back to native mode only when Helm cannot make it (no Helm binary,
or its chart repository cannot be reached), only if it has no Helm release yet, and only if
``GUNJ_NATIVE_FALLBACK`` allows it; the status and an Event say so. Anything else that stops Helm
(a credentials or ``valuesFrom`` Secret that is missing, a refused login, a chart that is not
there) is the spec's or the cluster's to fix, and is reported as it is.
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
    """The mode to reconcile a component in. ``requested``: the spec's mode, else the process
    default; ``explicit``: the spec names it; ``forms``: its Helm and native releases as they
    are; ``helm_problem``: why Helm cannot make it now (None: it can), asked only when it
    matters."""
    helm, native = _present(forms.get("helm")), _present(forms.get("native"))
    if not explicit and helm != native:
        # The process default picks a form for a new component only: a change of the default
        # (a function redeployed with GUNJ_MANAGER_MODE) must not switch what runs.
        return ModeChoice("helm" if helm else "native")
    if requested == "native":
        return ModeChoice("native")
    if helm:
        return ModeChoice("helm")
    problem = helm_problem()
    if problem is None:
        return ModeChoice("helm")
    if native or fallback_allowed:
        return ModeChoice("native", problem)
    raise HelmUnavailable(
        f"{component}: Helm cannot install it ({problem}), and falling back to native mode is "
        "not allowed (GUNJ_NATIVE_FALLBACK)"
    )

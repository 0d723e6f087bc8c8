"""The platform's phase and kstatus-style conditions, summarised from its components.

- ``Ready``: every enabled component is in sync and verified.
- ``Reconciling``: present (True) only while gunj works on the platform.
- ``Stalled``: True when a component cannot progress without a person or a new spec (retries
  spent, a quarantined version held, a release gunj does not own).
- ``Released``: the last install or upgrade and whether it succeeded.
- ``TestSuccess``: every component's current revision passed verification (False when one
  failed, Unknown while one awaits it).
- ``Remediated``: a failure was remediated (rolled back or uninstalled) since the last success.
- ``Drifted``: present (True) while a component's live objects differ from what its release
  holds, naming each object and where.

Ready's reason says why it is not: ``Held`` (a quarantined version or content asked for, after
a rollback), ``Failed``, ``RetriesExceeded`` (a change failed as often as the spec allows),
``Stalled`` (a release gunj does not own), ``WorkloadsNotReady``, ``Drifted``, ``Paused`` or
``Progressing``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..values.spec import COMPONENTS
from ..values.spec.status import (
    ComponentState,
    ComponentStatus,
    Condition,
    ConditionType,
    Phase,
    PlatformStatus,
)


def set_condition(
    conditions: Iterable[Condition],
    kind: ConditionType,
    status: str,
    reason: str,
    message: str,
    *,
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    """The conditions with ``kind`` set; its transition time moves only when status does."""
    kept = [c for c in conditions if c.type != kind]
    previous = next((c for c in conditions if c.type == kind), None)
    since = previous.last_transition_time if previous and previous.status == status else now
    kept.append(
        Condition.model_validate(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message[:1000],
                "lastTransitionTime": since,
                "observedGeneration": generation,
            }
        )
    )
    return sorted(kept, key=lambda c: c.type)


def drop_condition(conditions: Iterable[Condition], kind: ConditionType) -> list[Condition]:
    return [c for c in conditions if c.type != kind]


def _state(component: ComponentStatus) -> ComponentState | None:
    # A status built by model_copy is not validated again: its state may still be the word.
    return ComponentState(component.state) if component.state is not None else None


def phase_of(  # noqa: PLR0911 - one answer per phase
    components: dict[str, ComponentStatus], paused: bool, working: bool
) -> Phase:
    states = {state for c in components.values() if (state := _state(c)) is not None}
    if paused:
        return "Paused"
    if not components or all(_state(c) is ComponentState.IN_SYNC for c in components.values()):
        return "Ready"
    if any(_state(c) is ComponentState.FAILED and c.revision is None for c in components.values()):
        return "Failed"
    if any(state.stuck for state in states):
        return "Degraded"
    if working or any(state.working for state in states):
        installing = any(c.revision is None for c in components.values())
        return "Installing" if installing else "Upgrading"
    if any(state.off_course for state in states):
        return "Degraded"
    return "Pending"


def _ordered(components: dict[str, ComponentStatus]) -> dict[str, ComponentStatus]:
    """Components in reconcile order, whatever order the status was read or built in, so the
    same state always reads the same (and an unchanged status is not written again)."""
    rank = {name: index for index, name in enumerate(COMPONENTS)}
    return dict(sorted(components.items(), key=lambda item: rank.get(item[0], len(rank))))


def summarize(
    status: PlatformStatus,
    *,
    now: datetime,
    generation: int | None,
    paused: bool,
    working: bool,
) -> PlatformStatus:
    components = _ordered(status.components)
    conditions = list(status.conditions)
    phase = phase_of(components, paused, working)
    stuck = {n: c for n, c in components.items() if (state := _state(c)) and state.stuck}
    settled = {ComponentState.IN_SYNC, ComponentState.REMOVED}
    waiting = {n: c for n, c in components.items() if _state(c) not in settled}
    if phase == "Ready":
        conditions = set_condition(
            conditions,
            "Ready",
            "True",
            "Succeeded",
            "every component is in sync and verified",
            now=now,
            generation=generation,
        )
        conditions = drop_condition(conditions, "Stalled")
        conditions = drop_condition(conditions, "Remediated")
    else:
        reason = "Paused" if paused else _not_ready_reason(waiting)
        detail = "; ".join(f"{n}: {c.message}" for n, c in waiting.items()) or phase
        conditions = set_condition(
            conditions, "Ready", "False", reason, detail, now=now, generation=generation
        )
    if stuck:
        detail = "; ".join(f"{n}: {c.message}" for n, c in stuck.items())
        conditions = set_condition(
            conditions,
            "Stalled",
            "True",
            _not_ready_reason(stuck),
            detail,
            now=now,
            generation=generation,
        )
    else:
        conditions = drop_condition(conditions, "Stalled")
    conditions = _drift(conditions, components, now=now, generation=generation)
    if working:
        conditions = set_condition(
            conditions,
            "Reconciling",
            "True",
            "Progressing",
            "gunj is working",
            now=now,
            generation=generation,
        )
    else:
        conditions = drop_condition(conditions, "Reconciling")
    conditions = _tests(conditions, components, now=now, generation=generation)
    return status.model_copy(
        update={"phase": phase, "conditions": conditions, "components": components}
    )


def _not_ready_reason(components: dict[str, ComponentStatus]) -> str:
    """Why the platform is not ready, from the most pressing state of ``components``."""
    states = {_state(c): c for c in components.values()}
    if ComponentState.FAILED in states:
        return "Failed"
    if ComponentState.STALLED in states:
        spent = any(c.failures for c in components.values() if _state(c) is ComponentState.STALLED)
        return "RetriesExceeded" if spent else "Stalled"
    if ComponentState.HELD in states:
        return "Held"
    if ComponentState.DEGRADED in states:
        return "WorkloadsNotReady"
    if ComponentState.DRIFTED in states:
        return "Drifted"
    return "Progressing"


def _drift(
    conditions: list[Condition],
    components: dict[str, ComponentStatus],
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    drifted = {n: c for n, c in components.items() if c.drift}
    if not drifted:
        return drop_condition(conditions, "Drifted")
    detail = "; ".join(
        f"{n}: " + ", ".join(f"{d.object} {d.change}" for d in c.drift) for n, c in drifted.items()
    )
    return set_condition(
        conditions, "Drifted", "True", "DriftDetected", detail, now=now, generation=generation
    )


def _tests(
    conditions: list[Condition],
    components: dict[str, ComponentStatus],
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    deployed = {n: c for n, c in components.items() if c.revision is not None}
    if not deployed:
        return drop_condition(conditions, "TestSuccess")
    failed = {
        n: c for n, c in deployed.items() if c.verified_revision == c.revision and not c.tested
    }
    pending = {n: c for n, c in deployed.items() if c.verified_revision != c.revision}
    if failed:
        detail = "; ".join(f"{n}: {c.tests}" for n, c in failed.items())
        return set_condition(
            conditions, "TestSuccess", "False", "TestFailed", detail, now=now, generation=generation
        )
    if pending:
        return set_condition(
            conditions,
            "TestSuccess",
            "Unknown",
            "AwaitingTests",
            ", ".join(pending),
            now=now,
            generation=generation,
        )
    detail = "; ".join(f"{n}: {c.tests}" for n, c in deployed.items())
    return set_condition(
        conditions, "TestSuccess", "True", "TestSucceeded", detail, now=now, generation=generation
    )

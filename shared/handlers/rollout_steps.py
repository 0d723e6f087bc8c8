"""Where the functions move rollouts on (:mod:`shared.fleet.rollouts`), when a fleet store is
configured: a step of every running rollout on the resync and upgrade-check ticks, a step of the
rollouts whose current wave holds a platform after that platform's outcome. (The halt of the
rollouts of a version an alert rolled back comes with its fleet-wide quarantine:
:func:`.fleet.quarantine_fleet_wide`.) Without a store none of this runs.

A rollout step never fails the event it runs in: the platform's own outcome stands, and a store
out of reach is logged (the next tick takes the step)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import GunjError
from ..events.log import log_line
from ..fleet.store import configured_store
from .outcomes import publisher

if TYPE_CHECKING:
    from ..fleet.rollouts import Step


def _log(function: str, steps: list[Step], problem: str = "") -> None:
    for step in steps:
        if step.taken or step.problem:
            log_line(
                "WARNING" if step.problem else "INFO",
                f"{function}: rollout {step.rollout.id}: "
                + "; ".join(
                    [d.reason for d in step.taken] + ([step.problem] if step.problem else [])
                ),
                function=function,
                rollout=step.rollout.id,
                state=step.rollout.state,
                published=step.published,
            )
    if problem:
        log_line("WARNING", f"{function}: rollouts: {problem}", function=function)


def on_tick(function: str, env: Mapping[str, str]) -> dict[str, Any] | None:
    """A step of every running rollout (the resync tick's); what it did, for the tick's
    summary (None: no store)."""
    store = configured_store(env)
    if store is None:
        return None
    from ..fleet.rollouts import advance_running, publisher_of_waves

    try:
        steps = advance_running(store, publisher_of_waves(publisher(env)))
    except GunjError as error:
        _log(function, [], str(error))
        return {"error": str(error)}
    except Exception as error:  # the tick's own work stands; the text may hold a secret
        _log(function, [], f"unexpected {type(error).__name__}")
        return {"error": f"unexpected {type(error).__name__}"}
    _log(function, steps)
    return {
        s.rollout.id: {"state": s.rollout.state, "published": s.published} for s in steps if s.taken
    }


def after_outcome(function: str, document: Mapping[str, Any], env: Mapping[str, str]) -> None:
    """After a platform's outcome: a step of each running rollout whose current wave holds the
    platform, so the last platform Ready starts the wave's bake (or the next wave) at once."""
    cluster, platform = str(document.get("cluster") or ""), str(document.get("platform") or "")
    if not cluster or "/" not in platform:
        return
    store = configured_store(env)
    if store is None:
        return
    from ..fleet.rollouts import advance, publisher_of_waves, running_with

    try:
        steps = [
            advance(store, rollout.id, publisher_of_waves(publisher(env)))
            for rollout in running_with(store, cluster, platform)
        ]
    except GunjError as error:
        _log(function, [], str(error))
        return
    except Exception as error:  # the platform's outcome stands; its text may hold a secret
        _log(function, [], f"unexpected {type(error).__name__}")
        return
    _log(function, steps)

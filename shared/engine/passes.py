"""One pass over a platform's components, and the switch of a component between Helm and native
mode: its new form is made ready first; its old form is removed only then, and the new form
takes over what both named alike (the Services) and is verified again through them.

The order: Prometheus, Loki and Tempo have no order between them, so each is reconciled on a
thread of its own, at the same time (decide, act, verify: Helm runs as a process, and the API
calls wait on the network); Grafana, whose datasources point at them, starts once all three have
finished, whatever each ended as (its datasources are URLs: it installs and serves without
them). A component that fails does not stop the others. An error that ends the pass (the Lease
lost, the API server unreachable, a refused spec) still ends it, as it did when the components
ran one after another: the others finish what they are doing first, Grafana does not start,
and the first error in the spec's order is raised. The runs come back in the spec's order. The
status is written through one :class:`~.record.Recorder`, which serialises its changes.

A thread that starts a Helm process waits for it to end (a Helm process gets SIGTERM when the
thread that started it ends: ``setpriv --pdeathsig`` follows the thread)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace
from functools import partial
from typing import TypeVar

from ..values.spec.status import ComponentState
from .context import EngineContext
from .loop import ComponentRun, reconcile_component
from .record import Recorder
from .wanted import Wanted

STAGES: tuple[frozenset[str], ...] = (
    frozenset({"prometheus", "loki", "tempo"}),
    frozenset({"grafana"}),
)
"""Components reconciled at the same time, stage after stage (a component of no stage: alone,
after them)."""

T = TypeVar("T")


def run_components(
    ctx: EngineContext, recorder: Recorder, wanted: Sequence[Wanted]
) -> list[ComponentRun]:
    """Reconcile each of ``wanted`` (:func:`.wanted.wanted_components`: in the spec's order, a
    switching component's old form after its new one), stage by stage (:data:`STAGES`); the
    runs in the order of ``wanted``."""
    groups: dict[str, list[Wanted]] = {}
    for want in wanted:
        groups.setdefault(want.component, []).append(want)
    runs: dict[str, list[ComponentRun]] = {}
    for stage in stages(list(groups)):
        work = {c: partial(_component, ctx, recorder, groups[c]) for c in stage}
        runs.update(at_once(work))
    return [run for component in groups for run in runs[component]]


def stages(components: Sequence[str]) -> list[list[str]]:
    """``components`` in the stages they run in (:data:`STAGES`), each in the given order."""
    staged = [[c for c in components if c in stage] for stage in STAGES]
    staged += [[c] for c in components if not any(c in stage for stage in STAGES)]
    return [stage for stage in staged if stage]


def at_once(work: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Run each of ``work`` on a thread of its own and wait for all of them; their results by
    key. When any raised, the first in the order of ``work`` is raised, once all have ended."""
    if len(work) == 1:
        ((key, call),) = work.items()
        return {key: call()}
    with ThreadPoolExecutor(len(work), thread_name_prefix="component") as pool:
        futures = {key: pool.submit(call) for key, call in work.items()}
        wait(futures.values())
    return {key: future.result() for key, future in futures.items()}


def _component(ctx: EngineContext, recorder: Recorder, forms: list[Wanted]) -> list[ComponentRun]:
    """One component: its wanted form, then (switching modes) its old form's removal."""
    runs: list[ComponentRun] = []
    done: ComponentRun | None = None  # the component's new form
    for want in forms:
        if want.after is not None and (done is None or done.state is not ComponentState.IN_SYNC):
            waiting = f"its {want.backend.mode} form goes once the new one is ready"
            runs.append(ComponentRun(want.component, ComponentState.PROGRESSING, waiting))
            continue
        run = reconcile_component(ctx, recorder, want)
        if want.after is None:
            done = run
        if want.after is not None and run.state is ComponentState.REMOVED:
            # The switch is done: the new form takes what the old one held (its Services),
            # and is verified again through them.
            run = _handed_over(ctx, recorder, want.after, run)
            runs = []
        runs.append(run)
    return runs


def _handed_over(
    ctx: EngineContext, recorder: Recorder, new: Wanted, removed: ComponentRun
) -> ComponentRun:
    new.backend.take_over(ctx, new.release)
    recorder.unverified(new.component)
    recorder.warn(
        new.component, "Switched", f"now in {new.backend.mode} mode; the old form is removed"
    )
    current = new.backend.store.observe(new.release, ctx.namespace, ctx.clock())
    again = reconcile_component(ctx, recorder, replace(new, first=current))
    again.actions = removed.actions + again.actions
    return again

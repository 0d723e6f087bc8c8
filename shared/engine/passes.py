"""One pass over a platform's components, in order (Prometheus, Loki and Tempo before Grafana,
whose datasources point at them), and the switch of a component between Helm and native mode:
its new form is made ready first; its old form is removed only then, and the new form takes
over what both named alike (the Services) and is verified again through them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..values.spec.status import ComponentState
from .context import EngineContext
from .loop import ComponentRun, reconcile_component
from .record import Recorder
from .wanted import Wanted


def run_components(
    ctx: EngineContext, recorder: Recorder, wanted: Sequence[Wanted]
) -> list[ComponentRun]:
    """Reconcile each of ``wanted`` in order (:func:`.wanted.wanted_components`)."""
    runs: list[ComponentRun] = []
    done: dict[str, ComponentRun] = {}  # each component's new form, by component
    for want in wanted:
        if want.after is not None:
            first = done.get(want.component)
            if first is None or first.state is not ComponentState.IN_SYNC:
                waiting = f"its {want.backend.mode} form goes once the new one is ready"
                runs.append(ComponentRun(want.component, ComponentState.PROGRESSING, waiting))
                continue
        run = reconcile_component(ctx, recorder, want)
        if want.after is None:
            done[want.component] = run
        if want.after is not None and run.state is ComponentState.REMOVED:
            # The switch is done: the new form takes what the old one held (its Services),
            # and is verified again through them.
            run = _handed_over(ctx, recorder, want.after, run)
            runs = [r for r in runs if r.component != want.component]
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

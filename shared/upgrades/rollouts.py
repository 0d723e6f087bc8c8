"""Automatic upgrades as rollouts: with a fleet store, the upgrade check does not propose a new
chart version to every platform at once. Its proposals are grouped by component, chart and
version; each group is one rollout (created the first time the version is proposed, the
platforms proposing it added as its targets), and a platform gets the proposal only while its
cluster is in the rollout's current wave. The other platforms' reports say which wave they wait
for; a halted or aborted rollout proposes its version to nobody.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..clusters.waves import Wave as ClusterWave
from ..fleet.progress import Rollout
from ..fleet.rollouts import (
    Publisher,
    Step,
    advance,
    advance_running,
    ensure_upgrade,
    publisher_of_waves,
    upgrade_id,
)
from ..fleet.store import Store, StoreUnavailable
from .run import PlatformReport


@dataclass
class Gated:
    """What the check's rollouts did: each rollout's step, and the problem that held every
    automatic proposal back ("" when none did)."""

    steps: list[Step] = field(default_factory=list)
    problem: str = ""


def _key(report: PlatformReport, component: str, version: str) -> tuple[str, str, str]:
    chart = next((c.chart for c in report.components if c.component == component), "")
    return component, chart, version


def gate_proposals(
    store: Store,
    waves: Sequence[ClusterWave],
    reports: Iterable[PlatformReport],
    checked: Iterable[str],
    out: Publisher,
    *,
    bake: int = 0,
) -> Gated:
    """Make each proposal of ``reports`` part of its rollout, take each rollout's step, and
    leave in each report only the proposals its cluster's current wave allows (the others are
    named in its ``proposal_note``). ``checked``: the clusters this check read, whose
    platforms' proposals it publishes itself (a wave's other clusters get an upgrade-check
    tick). The store out of reach holds every automatic proposal back."""
    reports = list(reports)
    checked = set(checked)
    groups: dict[tuple[str, str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for report in reports:
        for component, version in report.proposal.items():
            groups[_key(report, component, version)][report.cluster].add(report.platform)
    gated = Gated()
    rollouts: dict[tuple[str, str, str], Rollout] = {}
    publish = publisher_of_waves(out, checked_here=checked)
    try:
        for (component, chart, version), targets in groups.items():
            ensure_upgrade(
                store,
                component,
                chart,
                version,
                waves=[(w.name, w.clusters) for w in waves],
                targets=targets,
                bake=bake,
            )
        for key in groups:
            step = advance(store, upgrade_id(*key), publish)
            gated.steps.append(step)
            rollouts[key] = step.rollout
        stepped = {s.rollout.id for s in gated.steps}
        gated.steps += advance_running(store, publish, skip=stepped)
    except StoreUnavailable as error:
        gated.problem = f"{error}: automatic upgrades wait for it"
        for report in reports:
            if report.proposal:
                report.proposal_note = f"not proposed now: {gated.problem}"
                report.proposal = {}
        return gated
    for report in reports:
        _filter(report, rollouts)
    return gated


def _filter(report: PlatformReport, rollouts: dict[tuple[str, str, str], Rollout]) -> None:
    kept: dict[str, str] = {}
    held: list[str] = []
    for component, version in report.proposal.items():
        rollout = rollouts[_key(report, component, version)]
        wave = rollout.waves[rollout.current] if rollout.current < len(rollout.waves) else None
        if rollout.state == "running" and wave is not None and report.cluster in wave.clusters:
            kept[component] = version
        elif rollout.state == "running" and wave is not None:
            held.append(
                f"{component} {version} waits for its wave (rollout {rollout.id} is in "
                f"wave {wave.name})"
            )
        elif rollout.state == "done":
            kept[component] = version  # every wave is through: latecomers follow at once
        else:
            why = f": {rollout.halted_by}" if rollout.halted_by else ""
            held.append(f"{component} {version}: rollout {rollout.id} is {rollout.state}{why}")
    report.proposal = kept
    if held:
        note = "not proposed now: " + "; ".join(held)
        report.proposal_note = f"{report.proposal_note}; {note}" if report.proposal_note else note

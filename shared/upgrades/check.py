"""What one component of one platform could be upgraded to.

From the chart version it runs (its status), the newer stable versions in its repository
(quarantined ones left out), each classified patch, minor or major against it: the newest of
each kind, a safe path to the newest (no major skipped, the newest of each major on the way,
:func:`shared.helm.selection.upgrade_path`), the charts' upgrade notes met on each step
(:mod:`shared.helm.upgrade_notes`), and the repository's notices (deprecated, moved). Where the
spec's ``upgradePolicy.auto`` allows it, the version an automatic upgrade would go to: the
newest patch (``patch``) or newest version of the same major (``minor``), never across a major,
and only when no note on the way is breaking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import GunjError
from ..helm.charts import ChartSource
from ..helm.index import ChartVersion
from ..helm.selection import notices, upgrade_path
from ..helm.upgrade_notes import notes_along
from ..values.plan import ComponentPlan
from ..versions import ChangeKind, InvalidVersion, classify_change, is_prerelease, parse_version
from .catalog import RunCatalog


@dataclass(frozen=True)
class Offer:
    version: str
    app_version: str
    kind: str


@dataclass(frozen=True)
class Step:
    version: str
    app_version: str
    kind: str
    breaking: bool
    notes: tuple[dict[str, str], ...] = ()


@dataclass
class ComponentCheck:
    component: str
    repository: str
    chart: str
    current: str | None
    current_app: str | None = None
    newest_patch: Offer | None = None
    newest_minor: Offer | None = None
    newest_major: Offer | None = None
    path: list[Step] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    auto: str = "none"
    proposal: str | None = None
    """The version an automatic upgrade goes to (None: none)."""
    why_not: str = ""
    """Why no automatic upgrade is proposed, when the policy would allow one."""
    error: str | None = None

    @property
    def available(self) -> bool:
        return bool(self.newest_patch or self.newest_minor or self.newest_major)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _offer(entries: list[tuple[Any, ChartVersion]], kind: ChangeKind) -> Offer | None:
    if not entries:
        return None
    _, entry = max(entries, key=lambda pair: pair[0])
    return Offer(entry.version, entry.app_version, kind.value)


def check_component(
    plan: ComponentPlan,
    current: str | None,
    catalog: RunCatalog,
    quarantined: Iterable[str],
) -> ComponentCheck:
    result = ComponentCheck(
        component=plan.component,
        repository=plan.repository,
        chart=plan.chart,
        current=current,
        auto=plan.spec.upgrade_policy.auto,
    )
    source = ChartSource(plan.repository, plan.chart)
    try:
        entries = catalog.versions(source)
    except GunjError as error:
        result.error = str(error)
        return result
    if current is None:
        result.error = "not deployed yet: nothing to compare with"
        return result
    try:
        now = parse_version(current)
    except InvalidVersion:
        result.error = f"the deployed chart version {current!r} is not a version"
        return result
    result.current_app = next((e.app_version for e in entries if e.version == current), None)
    result.notices = [notice.message for notice in notices(plan.repository, list(entries), current)]
    blocked = set(quarantined)
    newer: dict[ChangeKind, list[tuple[Any, ChartVersion]]] = {
        ChangeKind.PATCH: [],
        ChangeKind.MINOR: [],
        ChangeKind.MAJOR: [],
    }
    for entry in entries:
        try:
            version = parse_version(entry.version)
        except InvalidVersion:
            continue
        if is_prerelease(version) or entry.version in blocked or version <= now:
            continue
        kind = classify_change(now, version)
        if kind in newer:
            newer[kind].append((version, entry))
    result.newest_patch = _offer(newer[ChangeKind.PATCH], ChangeKind.PATCH)
    result.newest_minor = _offer(newer[ChangeKind.MINOR], ChangeKind.MINOR)
    result.newest_major = _offer(newer[ChangeKind.MAJOR], ChangeKind.MAJOR)
    candidates = [v for kind in newer.values() for v, _ in kind]
    apps = {e.version: e.app_version for e in entries}
    if candidates:
        result.path = _path(plan.chart, current, [str(v) for v in candidates], apps)
    _propose(result, newer, plan)
    return result


def _path(chart: str, current: str, available: list[str], apps: dict[str, str]) -> list[Step]:
    steps = []
    previous = current
    path = upgrade_path(current, available)
    for step in notes_along(chart, current, path):
        steps.append(
            Step(
                version=step.version,
                app_version=apps.get(step.version, ""),
                kind=classify_change(previous, step.version).value,
                breaking=step.breaking,
                notes=tuple(
                    {
                        "summary": n.summary,
                        "action": n.action,
                        "source": n.source,
                        "breaking": str(n.breaking).lower(),
                    }
                    for n in step.notes
                ),
            )
        )
        previous = step.version
    return steps


def _propose(
    result: ComponentCheck,
    newer: dict[ChangeKind, list[tuple[Any, ChartVersion]]],
    plan: ComponentPlan,
) -> None:
    """The automatic upgrade the spec allows, if any (never a major, never past a breaking
    note); otherwise why not."""
    if result.auto == "none" or result.current is None:
        return
    allowed = newer[ChangeKind.PATCH] + (newer[ChangeKind.MINOR] if result.auto == "minor" else [])
    if not allowed:
        return
    if plan.spec.version is not None:
        result.why_not = "the spec pins an app version (version); change it by hand"
        return
    target = max(allowed, key=lambda pair: pair[0])[1].version
    steps = notes_along(plan.chart, result.current, [target])
    breaking = [n for step in steps for n in step.notes if n.breaking]
    if breaking:
        result.why_not = f"{target} carries a breaking change: {breaking[0].summary}"
        return
    result.proposal = target

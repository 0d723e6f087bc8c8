"""What one component of one platform could be upgraded to.

From the chart version it runs (its status), the newer stable versions in its repository
(quarantined ones left out), each classified patch, minor or major against it: the newest of
each kind, a safe path to the newest (no major skipped, the newest of each major on the way,
:func:`shared.helm.selection.upgrade_path`), the charts' upgrade notes met on each step
(:mod:`shared.helm.upgrade_notes`), and the repository's notices (deprecated, moved). Where the
spec's ``upgradePolicy.auto`` allows it, the version an automatic upgrade would go to: the
newest patch (``patch``) or newest version of the same major (``minor``), never across a major,
only when no note on the way is breaking, only once the version is as old as the spec's
``upgradePolicy.minimumReleaseAge`` (default 3 days, from the index's ``created`` time; a version
whose repository gives no such time is not proposed unless the age is 0), and only when the
cluster can run it: the chart's own ``kubeVersion``, the Kubernetes versions its notes require,
and the compatibility rules, with the cluster and with the platform's other components
(:func:`refuse_incompatible`).

A component in native mode runs no chart: its status names gunj's renderer, whose version is
not a chart version, so it is not compared with the chart's; the report says which app version
it runs and whether the charts carry a newer one, and no chart upgrade is proposed for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import semver

from ..engine.sources import SecretSources
from ..errors import GunjError
from ..helm.charts import ChartSource
from ..helm.index import ChartVersion
from ..helm.selection import broken_rules, incompatibilities, notices, upgrade_path
from ..helm.upgrade_notes import UpgradeNote, notes_along, upgrade_notes
from ..kube.errors import ApiError
from ..timestamps import parse_time
from ..values.durations import duration_of
from ..values.plan import ComponentPlan
from ..values.spec.status import ComponentStatus
from ..versions import ChangeKind, InvalidVersion, classify_change, is_prerelease, parse_version
from .catalog import RunCatalog


@dataclass(frozen=True)
class Kubernetes:
    """The cluster's Kubernetes version, read once per cluster and check run, or why it could
    not be read (then no automatic upgrade is proposed: nothing could say the cluster runs it)."""

    version: str | None
    unreadable: str = ""


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
    """The chart version it runs (None: none deployed, or native mode)."""
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
    not_yet: str = ""
    """A newer version the policy allows that is too young to be proposed yet, and when it
    will be (e.g. "2.2.5 published 2 days ago; proposed after 3 days")."""
    error: str | None = None
    mode: str = "helm"
    """What runs it, from its status: ``helm`` (a chart) or ``native`` (gunj's renderer)."""
    renderer: str | None = None
    """Native mode: the renderer's version that deployed it (with the app's as build metadata)."""
    newest_app: str | None = None
    """Native mode: the newest app version the chart's stable releases carry, when newer than
    the one it runs."""

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
    record: ComponentStatus | None,
    catalog: RunCatalog,
    quarantined: Iterable[str],
    kubernetes: Kubernetes,
    *,
    sources: SecretSources | None = None,
    notes: Iterable[UpgradeNote] | None = None,
    now: datetime | None = None,
) -> ComponentCheck:
    """``record``: the component's status entry (what runs); ``sources``: the platform's
    namespace in its cluster, where the repository credentials the spec names are read;
    ``notes``: the upgrade notes to apply (default: the charts' own,
    ``data/upgrade_notes.yaml``); ``now``: the time release ages are measured at."""
    current = record.chart_version if record else None
    result = ComponentCheck(
        component=plan.component,
        repository=plan.repository,
        chart=plan.chart,
        current=current,
        auto=plan.spec.upgrade_policy.auto,
    )
    if record is not None and record.mode == "native":
        return _native(result, record, catalog, plan, sources)
    try:
        entries = catalog.versions(chart_source(plan, sources))
    except GunjError as error:
        result.error = str(error)
        return result
    if current is None:
        result.error = "not deployed yet: nothing to compare with"
        return result
    try:
        runs = parse_version(current)
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
    # Every entry parses: the index and the registry's tag list leave out what does not.
    for entry in entries:
        version = parse_version(entry.version)
        if is_prerelease(version) or entry.version in blocked or version <= runs:
            continue
        kind = classify_change(runs, version)
        if kind in newer:
            newer[kind].append((version, entry))
    result.newest_patch = _offer(newer[ChangeKind.PATCH], ChangeKind.PATCH)
    result.newest_minor = _offer(newer[ChangeKind.MINOR], ChangeKind.MINOR)
    result.newest_major = _offer(newer[ChangeKind.MAJOR], ChangeKind.MAJOR)
    candidates = [v for kind in newer.values() for v, _ in kind]
    apps = {e.version: e.app_version for e in entries}
    known = tuple(upgrade_notes() if notes is None else notes)
    if candidates:
        result.path = _path(plan.chart, current, [str(v) for v in candidates], apps, known)
    _propose(result, newer, plan, kubernetes, known, now=now or datetime.now(UTC))
    return result


def chart_source(plan: ComponentPlan, sources: SecretSources | None) -> ChartSource:
    """The component's chart, with the repository credentials its spec names
    (``chart.credentialsSecretRef``), read as reconcile reads them: from the Secret in the
    platform's namespace. A problem reading them is this component's alone; the message names
    the Secret, never what it holds."""
    reference = plan.spec.chart.credentials_secret_ref if plan.spec.chart else None
    if reference is None:
        return ChartSource(plan.repository, plan.chart)
    if sources is None:
        raise GunjError(
            f"repository credentials: Secret {reference.name} cannot be read without the cluster"
        )
    try:
        credentials = sources.credentials(reference)
    except ApiError as error:
        doing = f"repository credentials: reading Secret {sources.namespace}/{reference.name}"
        raise error.doing(doing) from None
    except GunjError as error:
        raise GunjError(f"repository credentials: {error}") from None
    return ChartSource(plan.repository, plan.chart, credentials)


def _native(
    result: ComponentCheck,
    record: ComponentStatus,
    catalog: RunCatalog,
    plan: ComponentPlan,
    sources: SecretSources | None,
) -> ComponentCheck:
    """A native-mode component: the app version it runs against the newest the chart's stable
    releases carry, for a person to read; its renderer's version is no chart version."""
    result.mode, result.current = "native", None
    result.renderer, result.current_app = record.chart_version, record.app_version
    running = record.app_version or "an unknown app version"
    note = (
        f"native mode: no chart runs, so no chart version is compared or proposed; upgrades "
        f"follow gunj's renderer (renderer {record.chart_version or '?'}, app {running})"
    )
    if result.auto != "none":
        result.why_not = "native mode: upgrades follow gunj's renderer, not the chart's versions"
    try:
        entries = catalog.versions(chart_source(plan, sources))
    except GunjError as error:
        result.notices = [f"{note}; the chart's app versions could not be read: {error}"]
        return result
    newest = _newest_app(entries)
    if newest is not None and _newer(newest[0], running):
        result.newest_app = newest[1].app_version
        note += (
            f"; the chart's newest release, {newest[1].version}, carries app "
            f"{newest[1].app_version}"
        )
    result.notices = [note]
    return result


def _newer(app: semver.Version, running: str) -> bool:
    try:
        return app > parse_version(running)
    except InvalidVersion:
        return False  # an app version that is no version cannot be compared


def _newest_app(entries: Iterable[ChartVersion]) -> tuple[semver.Version, ChartVersion] | None:
    """The newest app version among the chart's stable releases, and the release."""
    stable = []
    for entry in entries:
        try:
            app = parse_version(entry.app_version)
        except InvalidVersion:
            continue
        if not is_prerelease(parse_version(entry.version)) and not is_prerelease(app):
            stable.append((app, entry))
    return max(stable, key=lambda pair: pair[0]) if stable else None


def _path(
    chart: str,
    current: str,
    available: list[str],
    apps: dict[str, str],
    notes: tuple[UpgradeNote, ...],
) -> list[Step]:
    steps = []
    previous = current
    path = upgrade_path(current, available)
    for step in notes_along(chart, current, path, notes):
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


def _propose(  # noqa: PLR0911 - every refusal says why
    result: ComponentCheck,
    newer: dict[ChangeKind, list[tuple[Any, ChartVersion]]],
    plan: ComponentPlan,
    kubernetes: Kubernetes,
    notes: tuple[UpgradeNote, ...],
    *,
    now: datetime,
) -> None:
    """The automatic upgrade the spec allows, if any (never a major, never one younger than
    the spec's minimumReleaseAge, never past a breaking note, never one the cluster cannot
    run); otherwise why not."""
    if result.auto == "none" or result.current is None:
        return
    allowed = newer[ChangeKind.PATCH] + (newer[ChangeKind.MINOR] if result.auto == "minor" else [])
    if not allowed:
        return
    if plan.mode == "native":
        result.why_not = "the spec asks for native mode: upgrades follow gunj's renderer"
        return
    if plan.spec.version is not None:
        result.why_not = "the spec pins an app version (version); change it by hand"
        return
    aged = _old_enough(result, allowed, plan.spec.upgrade_policy.minimum_release_age, now)
    if not aged:
        result.why_not = result.not_yet
        return
    entry = max(aged, key=lambda pair: pair[0])[1]
    target = entry.version
    steps = notes_along(plan.chart, result.current, [target], notes)
    breaking = [n for step in steps for n in step.notes if n.breaking]
    if breaking:
        result.why_not = f"{target} carries a breaking change: {breaking[0].summary}"
        return
    if problems := cluster_problems(plan.component, plan.chart, entry, kubernetes, notes):
        result.why_not = f"{target} cannot be proposed: {'; '.join(problems)}"
        return
    result.proposal = target


def release_age(entry: ChartVersion, now: datetime) -> timedelta | None:
    """How long ago the repository published ``entry`` (its index's ``created``), or None when
    it does not say (or says something that is no time)."""
    created = parse_time(entry.created)
    if created is None:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return now - created


def _old_enough(
    result: ComponentCheck,
    allowed: list[tuple[Any, ChartVersion]],
    minimum: str,
    now: datetime,
) -> list[tuple[Any, ChartVersion]]:
    """The versions of ``allowed`` published at least ``minimum`` ago; the newest that is not
    yet is named in ``result.not_yet`` with when it will be."""
    wanted = duration_of(minimum)
    if wanted <= timedelta(0):
        return allowed
    aged = []
    for version, entry in sorted(allowed, key=lambda pair: pair[0], reverse=True):
        age = release_age(entry, now)
        if age is not None and age >= wanted:
            aged.append((version, entry))
        elif not result.not_yet:
            result.not_yet = (
                f"{entry.version} published {_ago(age)}; proposed after {minimum} "
                "(upgradePolicy.minimumReleaseAge)"
                if age is not None
                else f"{entry.version}: its repository gives no publication time (created), so "
                f"its age cannot be told; proposed only with upgradePolicy.minimumReleaseAge: 0"
            )
    return aged


def _ago(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def cluster_problems(
    component: str,
    chart: str,
    entry: ChartVersion,
    kubernetes: Kubernetes,
    notes: Iterable[UpgradeNote],
) -> list[str]:
    """Why the cluster cannot run ``entry`` (none: it can): its kubeVersion, the compatibility
    rules' Kubernetes requirements, and those of the chart's notes up to it."""
    if kubernetes.version is None:
        return [f"the cluster's Kubernetes version is unknown ({kubernetes.unreadable})"]
    cluster = kubernetes.version
    problems = incompatibilities(
        {component: entry.version},
        cluster,
        {component: entry.kube_version} if entry.kube_version else None,
    )
    # A note's requirement holds from its version on, so notes before the running version
    # count as well as those the upgrade meets.
    release = parse_version(entry.version).finalize_version()
    for note in notes:
        if note.chart != chart or note.introduced_in > release or note.kubernetes is None:
            continue
        if not note.allows_kubernetes(cluster):
            problems.append(
                f"from {note.introduced_in} on the chart needs Kubernetes {note.kubernetes}; "
                f"the cluster runs {cluster} ({note.source})"
            )
    return problems


def refuse_incompatible(checks: Iterable[ComponentCheck]) -> None:
    """Withdraw proposals that break a compatibility rule between components, with the rule as
    the reason: each proposed version is checked beside the versions the others would run
    (their own proposals, else what runs now). Withdrawing one may break a rule another
    proposal relied on, so this repeats until no proposal is withdrawn."""
    checks = list(checks)
    while True:
        charts = {
            c.component: c.proposal or c.current
            for c in checks
            if c.mode == "helm" and c.error is None and c.current is not None
        }
        proposed = {c.component: c for c in checks if c.proposal}
        withdrawn = False
        for broken in broken_rules(charts):
            for name in broken.components:
                check = proposed.get(name)
                if check is not None and check.proposal is not None:
                    check.why_not = f"{check.proposal} cannot be proposed: {broken.message}"
                    check.proposal = None
                    withdrawn = True
        if not withdrawn:
            return

"""Choosing chart versions: by range or app version, newest stable first, upgrade paths that
never skip a major, compatibility between components, and charts that are deprecated or moved."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import semver

from .. import yamlio
from ..versions import InvalidVersion, VersionConstraint, is_prerelease, parse_version
from .errors import ChartNotFound
from .index import ChartVersion
from .repositories import Move, moved


def _allowed(
    constraint: VersionConstraint | None, version: semver.Version, include_prereleases: bool
) -> bool:
    if is_prerelease(version) and not include_prereleases:
        return constraint is not None and constraint.allows(version)
    if constraint is None:
        return True
    # Asked for prereleases: a prerelease counts when its release would be allowed.
    return constraint.allows(version) or (
        include_prereleases and constraint.allows(version.finalize_version())
    )


def select_version(
    entries: Iterable[ChartVersion],
    *,
    constraint: str | None = None,
    app_version: str | None = None,
    include_prereleases: bool = False,
    exclude: Iterable[str] = (),
) -> ChartVersion:
    """The newest version allowed by ``constraint`` (and carrying ``app_version``, if given),
    leaving out ``exclude`` (quarantined versions) and, unless asked, prereleases."""
    entries = list(entries)
    parsed_constraint = VersionConstraint.parse(constraint) if constraint else None
    wanted_app = parse_version(app_version) if app_version else None
    excluded = {parse_version(v) for v in exclude}
    candidates = []
    for entry in entries:
        version = parse_version(entry.version)
        if version in excluded or not _allowed(parsed_constraint, version, include_prereleases):
            continue
        if wanted_app is not None:
            try:
                if parse_version(entry.app_version) != wanted_app:
                    continue
            except InvalidVersion:
                continue
        candidates.append((version, entry))
    if candidates:
        return max(candidates, key=lambda pair: pair[0])[1]
    raise ChartNotFound(_nothing_matches(entries, constraint, app_version, excluded))


def _nothing_matches(
    entries: Sequence[ChartVersion],
    constraint: str | None,
    app_version: str | None,
    excluded: set[semver.Version],
) -> str:
    name = entries[0].name if entries else "the chart"
    wants = [f"within {constraint}"] if constraint else []
    if app_version:
        wants.append(f"with app version {app_version}")
    newest = sorted((parse_version(e.version) for e in entries), reverse=True)[:3]
    known = ", ".join(str(v) for v in newest) or "none"
    note = f"; quarantined: {', '.join(str(v) for v in sorted(excluded))}" if excluded else ""
    return f"no version of {name} {' and '.join(wants) or 'at all'} (newest: {known}){note}"


def latest(entries: Iterable[ChartVersion], *, include_prereleases: bool = False) -> ChartVersion:
    return select_version(entries, include_prereleases=include_prereleases)


def upgrade_path(current: str, available: Iterable[str], target: str | None = None) -> list[str]:
    """Versions to go through from ``current`` to ``target`` (default: the newest stable), one
    major at a time: 27.5.0 to 29.27.0 is [28.<newest>, 29.27.0]."""
    start = parse_version(current)
    versions = sorted({parse_version(v) for v in available})
    final = (
        parse_version(target)
        if target
        else max((v for v in versions if not is_prerelease(v)), default=start)
    )
    if final <= start:
        return []
    path = []
    for major in range(start.major + 1, final.major):
        in_major = [v for v in versions if v.major == major and not is_prerelease(v)]
        if in_major:  # a chart may have skipped a major number itself
            path.append(str(max(in_major)))
    path.append(str(final))
    return path


@dataclass(frozen=True)
class Notice:
    kind: Literal["deprecated", "moved"]
    message: str


def notices(repository: str, entries: Sequence[ChartVersion], version: str) -> list[Notice]:
    """What a person should know about a chart version: deprecated, or moved elsewhere."""
    found = []
    chart = entries[0].name if entries else ""
    entry = next((e for e in entries if e.version == version), None)
    newest = max(entries, key=lambda e: parse_version(e.version), default=None)
    if (entry and entry.deprecated) or (newest and newest.deprecated):
        found.append(Notice("deprecated", f"chart {chart} in {repository} is deprecated"))
    if chart and (move := moved(repository, chart)):
        found.append(Notice("moved", moved_notice(chart, repository, move)))
    return found


def moved_notice(chart: str, repository: str, move: Move) -> str:
    """What a person reads about a chart that moved away from ``repository``: where to, when,
    and the repository's own note."""
    where = move.to_url + (f" (oci: {move.to_oci}/{chart})" if move.to_oci else "")
    return (
        f"chart {chart} moved from {repository} to {where} on {move.since.isoformat()}; {move.note}"
    )


@dataclass(frozen=True)
class Rule:
    component: str
    charts: str
    kubernetes: str | None
    components: Mapping[str, str]
    reason: str
    source: str
    section: str = ""


class InvalidRules(ValueError):
    """Compatibility data that cannot be used: a rule without a source is refused, not skipped."""


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Rules from ``compatibility.yaml``'s text; each must cite an https source and carry
    constraints Helm would accept."""
    rules = []
    for index, raw in enumerate(yamlio.safe_load(text).get("rules") or []):
        where = f"rule {index} ({raw.get('component', '?')})"
        source = str(raw.get("source") or "")
        if not source.startswith("https://"):
            raise InvalidRules(f"{where}: needs a `source` (an https URL) for what it states")
        requires = raw.get("requires") or {}
        rule = Rule(
            raw["component"],
            raw["charts"],
            requires.get("kubernetes"),
            requires.get("components") or {},
            raw["reason"],
            source,
            raw.get("section", ""),
        )
        try:
            for constraint in (rule.charts, rule.kubernetes, *rule.components.values()):
                if constraint:
                    VersionConstraint.parse(constraint)
        except InvalidVersion as error:
            raise InvalidRules(f"{where}: {error}") from error
        rules.append(rule)
    return tuple(rules)


@functools.cache
def compatibility_rules() -> tuple[Rule, ...]:
    return parse_rules(
        resources.files(__package__).joinpath("data", "compatibility.yaml").read_text()
    )


@dataclass(frozen=True)
class Incompatibility:
    """A broken rule: the components it involves (the one the rule is about first), and what a
    person reads."""

    components: tuple[str, ...]
    message: str


def _allows(constraint: str, version: semver.Version) -> bool | None:
    """Whether ``constraint`` allows ``version``; None when it does not parse (a chart's
    kubeVersion comes from its repository, not from gunj's data)."""
    try:
        return VersionConstraint.parse(constraint).allows(version)
    except InvalidVersion:
        return None


def broken_rules(
    charts: Mapping[str, str],
    kubernetes: str | None = None,
    kube_versions: Mapping[str, str] | None = None,
) -> list[Incompatibility]:
    """:func:`incompatibilities`, each with the components it involves, so a caller can tell
    which of several planned versions a broken rule stands against."""
    problems = []
    cluster = parse_version(kubernetes) if kubernetes else None
    for component, constraint in (kube_versions or {}).items():
        if not cluster or not constraint:
            continue
        # Helm refuses a chart whose kubeVersion does not parse as well as one it rules out.
        allowed = _allows(constraint, cluster)
        if allowed is None:
            problems.append(
                Incompatibility(
                    (component,),
                    f"{component} {charts.get(component, '')} declares kubeVersion "
                    f"{constraint!r}, which is not a version constraint",
                )
            )
        elif not allowed:
            problems.append(
                Incompatibility(
                    (component,),
                    f"{component} {charts.get(component, '')} needs Kubernetes "
                    f"{constraint}; the cluster runs {kubernetes}",
                )
            )
    for rule in compatibility_rules():
        version = charts.get(rule.component)
        if version is None or not VersionConstraint.parse(rule.charts).allows(version):
            continue
        if (
            cluster
            and rule.kubernetes
            and not VersionConstraint.parse(rule.kubernetes).allows(cluster)
        ):
            problems.append(
                Incompatibility(
                    (rule.component,),
                    f"{rule.component} {version} needs Kubernetes {rule.kubernetes}: "
                    f"{rule.reason} ({rule.source})",
                )
            )
        for other, needed in rule.components.items():
            have = charts.get(other)
            if have is not None and not VersionConstraint.parse(needed).allows(have):
                problems.append(
                    Incompatibility(
                        (rule.component, other),
                        f"{rule.component} {version} needs {other} chart {needed} "
                        f"(planned: {have}): {rule.reason} ({rule.source})",
                    )
                )
    return problems


def incompatibilities(
    charts: Mapping[str, str],
    kubernetes: str | None = None,
    kube_versions: Mapping[str, str] | None = None,
) -> list[str]:
    """Broken rules for a set of ``component: chart version`` (and the cluster's version).
    ``kube_versions`` are the charts' own ``kubeVersion`` constraints, checked as well."""
    return [problem.message for problem in broken_rules(charts, kubernetes, kube_versions)]

"""What changes for a person when a chart is upgraded: the charts' own upgrade notes
(``data/upgrade_notes.yaml``), each with its source, what to do, and whether it is breaking.

A note belongs to the first chart version that carries the change (``introduced_in``); an upgrade
meets it when it starts below that version and ends at or beyond it. Notes are keyed by chart
name only, so one chart's notes also cover its releases before a repository move.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import semver

from .. import yamlio
from ..versions import InvalidVersion, VersionConstraint, parse_version
from .repositories import known_repositories

_REQUIRED = ("chart", "repository", "introduced_in", "breaking", "summary", "action", "source")
_OPTIONAL = ("section", "see_also", "kubernetes")


class InvalidUpgradeNotes(ValueError):
    """Upgrade notes that cannot be used: a note without a source, or with a field that does not
    parse, is refused rather than skipped."""


@dataclass(frozen=True)
class UpgradeNote:
    chart: str
    repository: str
    introduced_in: semver.Version
    breaking: bool
    summary: str
    action: str
    source: str
    section: str = ""
    see_also: tuple[str, ...] = ()
    kubernetes: str | None = None

    def allows_kubernetes(self, version: str) -> bool:
        """Whether a cluster at ``version`` can run the chart from ``introduced_in`` on."""
        if self.kubernetes is None:
            return True
        return VersionConstraint.parse(self.kubernetes).allows(parse_version(version))


@dataclass(frozen=True)
class StepNotes:
    """One step of an upgrade path and the notes met on it. ``major``: the step enters a new
    major version, which these charts reserve for changes that need a person, so such a step
    is breaking even where no note has been recorded for it."""

    version: str
    notes: tuple[UpgradeNote, ...]
    major: bool = False

    @property
    def breaking(self) -> bool:
        return self.major or any(note.breaking for note in self.notes)


def _https(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str) or not value.startswith("https://"):
        raise InvalidUpgradeNotes(f"{where}: `{field}` must be an https URL, not {value!r}")
    return value


def _text(raw: Mapping[str, Any], field: str, where: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidUpgradeNotes(f"{where}: `{field}` must be non-empty text")
    return value.strip()


def _note(raw: Any, where: str, repositories: Collection[str]) -> UpgradeNote:
    if not isinstance(raw, dict):
        raise InvalidUpgradeNotes(f"{where}: a note is a mapping")
    if missing := [f for f in _REQUIRED if f not in raw]:
        raise InvalidUpgradeNotes(f"{where}: missing {', '.join(missing)}")
    if unknown := sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL)):
        raise InvalidUpgradeNotes(f"{where}: unknown field {', '.join(unknown)}")
    where = f"{where} ({raw['chart']} {raw['introduced_in']})"
    if raw["repository"] not in repositories:
        raise InvalidUpgradeNotes(f"{where}: unknown repository {raw['repository']!r}")
    if not isinstance(raw["breaking"], bool):
        raise InvalidUpgradeNotes(f"{where}: `breaking` must be true or false")
    try:
        introduced = parse_version(str(raw["introduced_in"]))
        kubernetes = raw.get("kubernetes")
        if kubernetes is not None:
            VersionConstraint.parse(str(kubernetes))
    except InvalidVersion as error:
        raise InvalidUpgradeNotes(f"{where}: {error}") from error
    return UpgradeNote(
        chart=_text(raw, "chart", where),
        repository=raw["repository"],
        introduced_in=introduced,
        breaking=raw["breaking"],
        summary=_text(raw, "summary", where),
        action=_text(raw, "action", where),
        source=_https(raw["source"], where, "source"),
        section=str(raw.get("section") or ""),
        see_also=tuple(_https(url, where, "see_also") for url in raw.get("see_also") or ()),
        kubernetes=None if kubernetes is None else str(kubernetes),
    )


def parse_notes(text: str, repositories: Collection[str]) -> tuple[UpgradeNote, ...]:
    """Notes from ``upgrade_notes.yaml``'s text, ordered by chart and version; ``repositories``
    are the repository names a note may name."""
    document = yamlio.safe_load(text) or {}
    notes = [
        _note(raw, f"note {index}", repositories)
        for index, raw in enumerate(document.get("notes") or [])
    ]
    return tuple(sorted(notes, key=lambda n: (n.chart, n.introduced_in)))


@functools.cache
def upgrade_notes() -> tuple[UpgradeNote, ...]:
    text = resources.files(__package__).joinpath("data", "upgrade_notes.yaml").read_text()
    return parse_notes(text, known_repositories().keys())


def _release(version: str | semver.Version) -> semver.Version:
    # A prerelease already carries the changes of the release it leads to: 13.0.0-beta.1 meets
    # 13.0.0's notes, and an upgrade from it to 13.0.0 meets none of them again.
    parsed = parse_version(version) if isinstance(version, str) else version
    return parsed.finalize_version()


def notes_between(
    chart: str,
    current: str,
    target: str,
    notes: Iterable[UpgradeNote] | None = None,
) -> list[UpgradeNote]:
    """The notes an upgrade of ``chart`` from ``current`` to ``target`` meets, oldest first:
    those introduced after ``current`` and no later than ``target``. None for a downgrade, the
    same version, or a chart without notes."""
    low, high = _release(current), _release(target)
    return [
        note
        for note in (upgrade_notes() if notes is None else notes)
        if note.chart == chart and low < note.introduced_in <= high
    ]


def notes_along(
    chart: str,
    current: str,
    path: Iterable[str],
    notes: Iterable[UpgradeNote] | None = None,
) -> list[StepNotes]:
    """The notes of each step of an upgrade path (``selection.upgrade_path``'s answer), each
    step starting where the one before it ended."""
    known = tuple(upgrade_notes() if notes is None else notes)
    steps = []
    for version in path:
        met = tuple(notes_between(chart, current, version, known))
        steps.append(StepNotes(version, met, _release(version).major > _release(current).major))
        current = version
    return steps

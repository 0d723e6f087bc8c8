"""Chart and app versions: tolerant parsing, and Helm's constraint language.

Helm matches ``--version`` constraints with Masterminds/semver v3, whose rules differ from npm's
in places; this module follows Helm's so a constraint means here what it means to ``helm``:

- comparators ``=`` (or none), ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~`` (patch level once a
  minor is given), ``^`` (major level, minor below 1.0.0); AND by comma or space, OR by ``||``;
- hyphen ranges ``1.2 - 1.4.5``; wildcards ``x``, ``X``, ``*`` and missing parts: ``1.2`` and
  ``1.2.x`` both mean ``>=1.2.0 <1.3.0``, ``<=2.x`` means ``<3.0.0``;
- a prerelease version matches only a group that names a prerelease itself (``>=1.2.3-0``).

The ``semver`` library parses and orders versions; it has no ranges, hence the parser below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import semver

_PART = r"(0|[1-9]\d*|[xX*])"
_PARTIAL = re.compile(
    rf"^[vV]?{_PART}(?:\.{_PART})?(?:\.{_PART})?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_COMPARATOR = re.compile(r"^(=|!=|>=|<=|>|<|~>?|\^)?\s*(\S+)$")
_HYPHEN = re.compile(r"^(\S+)\s+-\s+(\S+)$")
_WILDCARDS = {"x", "X", "*"}


class InvalidVersion(ValueError):
    """Not a version (or not a constraint) Helm would accept."""


def parse_version(text: str) -> semver.Version:
    """Parse a version, tolerating a leading ``v`` and missing minor or patch (``1.2``)."""
    partial = _parse_partial(text.strip())
    if partial.wildcard:
        raise InvalidVersion(f"{text!r} is a range, not a version")
    return partial.floor


def normalize_version(text: str) -> str:
    """``v3.14.0`` and ``3.14.0`` alike become ``3.14.0``."""
    return str(parse_version(text))


def is_prerelease(version: semver.Version) -> bool:
    return version.prerelease is not None


@dataclass(frozen=True)
class _Partial:
    major: int | None  # None: wildcard
    minor: int | None
    patch: int | None
    prerelease: str | None
    wildcard: bool = False
    build: str | None = None

    @property
    def dirty(self) -> bool:
        return self.major is None or self.minor is None or self.patch is None

    @property
    def floor(self) -> semver.Version:
        return semver.Version(
            self.major or 0, self.minor or 0, self.patch or 0, self.prerelease, self.build
        )

    @property
    def ceiling(self) -> semver.Version | None:
        """The first version above a wildcard or partial version; None when unbounded."""
        if self.major is None:
            return None
        if self.minor is None:
            return semver.Version(self.major + 1, 0, 0)
        if self.patch is None:
            return semver.Version(self.major, self.minor + 1, 0)
        return None


def _parse_partial(text: str) -> _Partial:
    match = _PARTIAL.match(text)
    if not match:
        raise InvalidVersion(f"{text!r} is not a semantic version")
    major, minor, patch, prerelease, build = match.groups()
    parts: list[int | None] = []
    missing = False
    for part in (major, minor, patch):
        missing = missing or part is None or part in _WILDCARDS
        parts.append(None if missing else int(part))
    wildcard = any(part in _WILDCARDS for part in (major, minor, patch) if part)
    return _Partial(parts[0], parts[1], parts[2], prerelease, wildcard, build)


Check = Callable[[semver.Version], bool]


def _between(low: semver.Version | None, high: semver.Version | None) -> Check:
    """low <= v < high, either bound optional."""

    def check(version: semver.Version) -> bool:
        return (low is None or version >= low) and (high is None or version < high)

    return check


def _comparator(operator: str, partial: _Partial) -> Check:  # noqa: PLR0911 - one per operator
    floor, ceiling = partial.floor, partial.ceiling
    if partial.major is None:  # "*", "x": anything (">x" and "<x" match nothing, as in Helm)
        return (lambda _: False) if operator in {">", "<", "!="} else (lambda _: True)
    if operator in {"", "="}:
        return _between(floor, ceiling) if partial.dirty else (lambda v: v.compare(floor) == 0)
    if operator == "!=":
        equal = _comparator("=", partial)
        return lambda v: not equal(v)
    if operator == ">":
        return (lambda v: v >= ceiling) if ceiling else (lambda v: v > floor)
    if operator == ">=":
        return lambda v: v >= floor
    if operator == "<":
        return lambda v: v < floor
    if operator == "<=":
        return (lambda v: v < ceiling) if ceiling else (lambda v: v <= floor)
    if operator in {"~", "~>"}:
        if partial.minor is None:
            return _between(floor, semver.Version(partial.major + 1, 0, 0))
        return _between(floor, semver.Version(partial.major, partial.minor + 1, 0))
    return _caret(partial)


def _caret(partial: _Partial) -> Check:
    major, minor, patch = partial.major or 0, partial.minor, partial.patch
    floor = partial.floor
    if major > 0:
        return _between(floor, semver.Version(major + 1, 0, 0))
    if minor is None:
        return _between(floor, semver.Version(1, 0, 0))
    if minor > 0:
        return _between(floor, semver.Version(0, minor + 1, 0))
    if patch is None:
        return _between(floor, semver.Version(0, 1, 0))
    return _between(floor, semver.Version(0, 0, patch + 1))


@dataclass(frozen=True)
class _Group:
    """Comparators that must all hold (AND)."""

    checks: tuple[Check, ...]
    names_prerelease: bool

    def allows(self, version: semver.Version) -> bool:
        if is_prerelease(version) and not self.names_prerelease:
            return False
        return all(check(version) for check in self.checks)


def _split_and(text: str) -> list[str]:
    """Split an AND group on commas and spaces, keeping an operator with its version."""
    tokens = [t for t in re.split(r"[,\s]+", text.strip()) if t]
    merged: list[str] = []
    for token in tokens:
        if merged and re.fullmatch(r"=|!=|>=|<=|>|<|~>?|\^", merged[-1]):
            merged[-1] += token
        else:
            merged.append(token)
    return merged


def _parse_group(text: str) -> _Group:
    checks: list[Check] = []
    names_prerelease = False
    hyphen = _HYPHEN.match(text.strip())
    if hyphen:
        low, high = (_parse_partial(part) for part in hyphen.groups())
        names_prerelease = bool(low.prerelease or high.prerelease)
        checks += [_comparator(">=", low), _comparator("<=", high)]
        return _Group(tuple(checks), names_prerelease)
    for token in _split_and(text):
        match = _COMPARATOR.match(token)
        if not match:
            raise InvalidVersion(f"{token!r} is not a version comparison")
        operator, version = match.group(1) or "", match.group(2)
        partial = _parse_partial(version)
        names_prerelease = names_prerelease or partial.prerelease is not None
        checks.append(_comparator(operator, partial))
    if not checks:
        raise InvalidVersion("empty version constraint")
    return _Group(tuple(checks), names_prerelease)


@dataclass(frozen=True)
class VersionConstraint:
    """A Helm version constraint, e.g. ``~29.27``, ``>=12 <13``, ``1.2 - 1.4 || ^2``."""

    text: str
    groups: tuple[_Group, ...]

    @classmethod
    def parse(cls, text: str) -> VersionConstraint:
        if not text or not text.strip():
            raise InvalidVersion("empty version constraint")
        return cls(text.strip(), tuple(_parse_group(part) for part in text.split("||")))

    def allows(self, version: semver.Version | str) -> bool:
        if isinstance(version, str):
            version = parse_version(version)
        return any(group.allows(version) for group in self.groups)

    @property
    def exact(self) -> semver.Version | None:
        """The one version this constraint names, if it is a plain full version."""
        try:
            partial = _parse_partial(self.text.lstrip("="))
        except InvalidVersion:
            return None
        return None if partial.dirty else partial.floor

    def best(self, versions: Iterable[semver.Version | str]) -> semver.Version | None:
        """The highest version allowed, or None."""
        parsed = [parse_version(v) if isinstance(v, str) else v for v in versions]
        allowed = [v for v in parsed if self.allows(v)]
        return max(allowed) if allowed else None


class ChangeKind(StrEnum):
    NONE = "none"
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"
    DOWNGRADE = "downgrade"


def classify_change(current: semver.Version | str, target: semver.Version | str) -> ChangeKind:
    old = parse_version(current) if isinstance(current, str) else current
    new = parse_version(target) if isinstance(target, str) else target
    if new == old:
        return ChangeKind.NONE
    if new < old:
        return ChangeKind.DOWNGRADE
    if new.major != old.major:
        return ChangeKind.MAJOR
    if new.minor != old.minor:
        return ChangeKind.MINOR
    return ChangeKind.PATCH

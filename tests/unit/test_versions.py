"""Versions and constraints mean what they mean to Helm (Masterminds/semver v3)."""

from __future__ import annotations

import pytest

from shared.versions import (
    ChangeKind,
    InvalidVersion,
    VersionConstraint,
    classify_change,
    normalize_version,
    parse_version,
)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("v3.14.0", "3.14.0"),
        ("3.14.0", "3.14.0"),
        ("1.2", "1.2.0"),
        ("2", "2.0.0"),
        ("13.0.0-beta.1", "13.0.0-beta.1"),
        (" v1.2.3+build.7 ", "1.2.3+build.7"),
    ],
)
def test_versions_parse_leniently(text: str, normalized: str) -> None:
    assert normalize_version(text) == normalized


@pytest.mark.parametrize("text", ["latest", "1.x", "1.2.*", "", "v", "1.2.3.4", "01.2.3", "1..2"])
def test_non_versions_are_rejected(text: str) -> None:
    with pytest.raises(InvalidVersion):
        parse_version(text)


# constraint, allowed, refused
CONSTRAINTS = [
    ("~29.27", ["29.27.0", "29.27.9"], ["29.26.0", "29.28.0", "30.0.0"]),
    ("~1", ["1.0.0", "1.9.9"], ["2.0.0", "0.9.0"]),
    ("~1.2.3", ["1.2.3", "1.2.9"], ["1.2.2", "1.3.0"]),
    (">=12 <13", ["12.0.0", "12.11.1"], ["11.9.9", "13.0.0", "12.5.0-rc.1"]),
    (">=12, <13", ["12.0.0"], ["13.0.0"]),
    ("^2.3", ["2.3.0", "2.99.0"], ["2.2.9", "3.0.0"]),
    ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0"]),
    ("^0.0.3", ["0.0.3"], ["0.0.4"]),
    ("^0", ["0.0.0", "0.99.0"], ["1.0.0"]),
    ("1.2.x", ["1.2.0", "1.2.7"], ["1.3.0"]),
    ("1.2", ["1.2.0", "1.2.7"], ["1.3.0"]),
    ("<=2.x", ["2.9.9", "1.0.0"], ["3.0.0"]),
    (">1.2", ["1.3.0"], ["1.2.9"]),
    ("*", ["0.0.1", "29.27.0"], ["1.0.0-rc.1"]),
    ("1.2 - 1.4.5", ["1.2.0", "1.4.5"], ["1.4.6", "1.1.9"]),
    ("29.27.0", ["29.27.0", "v29.27.0"], ["29.27.1"]),
    ("!=29.27.1", ["29.27.0"], ["29.27.1"]),
    ("<2 || >=3", ["1.9.0", "3.0.0"], ["2.5.0"]),
    (">=13.0.0-0", ["13.0.0-beta.1", "13.0.0"], ["12.11.1"]),
]


@pytest.mark.parametrize(("constraint", "allowed", "refused"), CONSTRAINTS)
def test_constraints_follow_helm(constraint: str, allowed: list[str], refused: list[str]) -> None:
    parsed = VersionConstraint.parse(constraint)

    assert [v for v in allowed if not parsed.allows(v)] == []
    assert [v for v in refused if parsed.allows(v)] == []


@pytest.mark.parametrize("text", ["", "   ", ">>1", "~latest", "1.2.3 -", ">= 1.2.3.4"])
def test_bad_constraints_are_rejected(text: str) -> None:
    with pytest.raises(InvalidVersion):
        VersionConstraint.parse(text)


def test_best_is_the_newest_allowed_stable_version() -> None:
    available = ["29.26.0", "29.27.0", "29.27.1", "29.28.0-rc.1", "30.0.0"]

    assert str(VersionConstraint.parse("~29.27").best(available)) == "29.27.1"
    assert str(VersionConstraint.parse(">=29 <30").best(available)) == "29.27.1"
    assert VersionConstraint.parse(">=31").best(available) is None


def test_exact_constraint_names_one_version() -> None:
    assert str(VersionConstraint.parse("=29.27.0").exact) == "29.27.0"
    assert VersionConstraint.parse("~29.27").exact is None


@pytest.mark.parametrize(
    ("current", "target", "kind"),
    [
        ("29.27.0", "29.27.1", ChangeKind.PATCH),
        ("29.27.0", "29.28.0", ChangeKind.MINOR),
        ("28.9.1", "29.0.0", ChangeKind.MAJOR),
        ("29.27.0", "29.27.0", ChangeKind.NONE),
        ("29.27.1", "29.27.0", ChangeKind.DOWNGRADE),
        ("v3.14.0", "3.14.1", ChangeKind.PATCH),
    ],
)
def test_changes_are_classified(current: str, target: str, kind: ChangeKind) -> None:
    assert classify_change(current, target) is kind

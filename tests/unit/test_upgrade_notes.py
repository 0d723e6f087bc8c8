"""Upgrade notes: which of the charts' own upgrade notes an upgrade meets, step by step along a
safe path, which steps are breaking, and that every note shipped cites where it comes from."""

from __future__ import annotations

import pytest

from shared.helm.repositories import known_repositories
from shared.helm.selection import upgrade_path
from shared.helm.upgrade_notes import (
    InvalidUpgradeNotes,
    notes_along,
    notes_between,
    parse_notes,
    upgrade_notes,
)

PROMETHEUS = ["27.5.0", "28.0.0", "28.9.1", "29.26.0", "29.27.0"]


def introduced(chart: str, current: str, target: str) -> list[str]:
    return [str(n.introduced_in) for n in notes_between(chart, current, target)]


def one_note(**fields: object) -> str:
    note = {
        "chart": "demo",
        "repository": "grafana-community",
        "introduced_in": "2.0.0",
        "breaking": True,
        "summary": "something changed",
        "action": "do something",
        "source": "https://example.org/demo/README.md",
        **fields,
    }
    # repr() of these values is also YAML for them: quoted text, True/False.
    lines = [f"    {key}: {value!r}" for key, value in note.items() if value is not None]
    return "\n".join(["notes:", "  -", *lines])


def test_prometheus_path_across_two_majors_meets_the_scrape_config_move() -> None:
    notes = notes_between("prometheus", "27.5.0", "29.27.0")

    assert [str(n.introduced_in) for n in notes] == ["28.0.0"]
    assert "scrapeConfigs" in notes[0].summary
    assert notes[0].source.startswith("https://github.com/prometheus-community/helm-charts/")
    assert notes[0].breaking


def test_each_step_of_a_safe_path_carries_its_own_notes_and_majors_are_breaking() -> None:
    path = upgrade_path("27.5.0", PROMETHEUS)
    steps = notes_along("prometheus", "27.5.0", path)

    assert [s.version for s in steps] == ["28.9.1", "29.27.0"]
    assert [str(n.introduced_in) for n in steps[0].notes] == ["28.0.0"]
    # No upstream note is recorded for 29.0.0, but entering a major is never automatic.
    assert steps[1].notes == ()
    assert [s.breaking for s in steps] == [True, True]


def test_patch_and_minor_steps_meet_only_notes_listed_inside_the_major() -> None:
    assert notes_between("prometheus", "29.26.0", "29.27.0") == []
    assert notes_along("prometheus", "29.26.0", ["29.27.0"])[0].breaking is False
    # Tempo's 1.x line moved its port in a patch release.
    assert introduced("tempo", "1.21.0", "1.21.1") == ["1.21.1"]
    assert introduced("tempo", "1.21.1", "1.24.4") == ["1.22.0"]


def test_unknown_charts_downgrades_and_the_same_version_meet_nothing() -> None:
    assert notes_between("mimir", "1.0.0", "9.0.0") == []
    assert notes_between("prometheus", "29.27.0", "27.5.0") == []
    assert notes_between("prometheus", "28.0.0", "28.0.0") == []
    assert notes_along("mimir", "1.0.0", ["2.0.0"])[0].breaking is True


def test_a_chart_that_moved_repository_keeps_its_notes() -> None:
    grafana = notes_between("grafana", "10.5.15", "12.11.1")
    tempo = notes_between("tempo", "1.24.4", "2.2.4")

    assert [(str(n.introduced_in), n.repository) for n in grafana] == [
        ("11.0.0", "grafana-community")
    ]
    assert [str(n.introduced_in) for n in tempo] == ["2.0.0"]
    assert "grafana-community" in grafana[0].action


def test_a_note_says_which_clusters_can_take_the_new_version() -> None:
    (note,) = notes_between("grafana", "10.5.15", "12.11.1")

    assert not note.allows_kubernetes("v1.24.17")
    assert note.allows_kubernetes("v1.25.3-gke.100")
    assert note.allows_kubernetes("1.34.4")
    assert notes_between("loki", "17.4.0", "18.11.0")[0].allows_kubernetes("v1.20.0")


def test_loki_from_the_old_repository_meets_every_major_on_the_way() -> None:
    assert introduced("loki", "6.30.0", "18.11.0") == [f"{m}.0.0" for m in range(7, 19)]
    assert introduced("loki", "17.4.0", "18.11.0") == ["18.0.0"]


def test_a_prerelease_already_carries_the_changes_of_its_release() -> None:
    notes = parse_notes(one_note(introduced_in="13.0.0"), ["grafana-community"])

    assert len(notes_between("demo", "12.11.1", "13.0.0-beta.1", notes)) == 1
    assert notes_between("demo", "13.0.0-beta.1", "13.0.0", notes) == []


def test_every_shipped_note_cites_its_source_and_says_what_to_do() -> None:
    notes = upgrade_notes()

    assert {n.chart for n in notes} == {"prometheus", "grafana", "loki", "tempo"}
    for note in notes:
        assert note.source.startswith("https://"), note
        assert note.section, note
        assert note.summary and note.action, note
        assert note.repository in known_repositories(), note
        if note.introduced_in.minor == 0 and note.introduced_in.patch == 0:
            assert note.breaking, f"{note.chart} {note.introduced_in} is a major"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": None}, "missing source"),
        ({"source": "http://example.org/notes"}, "https URL"),
        ({"repository": "somewhere"}, "unknown repository 'somewhere'"),
        ({"introduced_in": "2.x"}, "range, not a version"),
        ({"breaking": "yes"}, "true or false"),
        ({"kubernetes": ">=1.25 <<2"}, "demo 2.0.0"),
        ({"summary": " "}, "`summary` must be non-empty"),
        ({"sources": "https://example.org"}, "unknown field sources"),
    ],
)
def test_notes_that_cannot_be_trusted_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidUpgradeNotes, match=message):
        parse_notes(one_note(**fields), ["grafana-community"])

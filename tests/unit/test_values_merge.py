"""Merging follows Helm's rules (maps merge, lists and scalars replace, null deletes) and never
touches its inputs; building values never changes gunj's shared defaults."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.values.merge import effective, merge, merge_all, set_path
from shared.values.plan import default_values, plan_platform
from tests.unit.test_values_fields import platform

keys = st.sampled_from(["a", "b", "c", "server", "retention", "list"])
scalars = st.one_of(st.integers(-3, 3), st.sampled_from(["", "15d", "x"]), st.booleans())
values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(scalars, st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)
maps = st.dictionaries(keys, values, max_size=5)


@given(maps, maps)
def test_inputs_are_never_modified(base: dict[str, Any], override: dict[str, Any]) -> None:
    before = (copy.deepcopy(base), copy.deepcopy(override))

    merged = merge(base, override)
    # Nothing in the result is shared with the inputs either.
    for value in merged.values():
        if isinstance(value, dict | list):
            value.clear()

    assert (base, override) == before


@given(maps, maps)
def test_override_keys_win_unless_both_are_maps(
    base: dict[str, Any], override: dict[str, Any]
) -> None:
    merged = merge(base, override)

    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            assert merged[key] == merge(base[key], value)
        else:
            assert merged[key] == value  # lists and scalars replace; None stays as a marker


@given(maps, maps)
def test_base_keys_survive_unless_overridden(
    base: dict[str, Any], override: dict[str, Any]
) -> None:
    merged = merge(base, override)

    for key, value in base.items():
        if key not in override:
            assert merged[key] == value


@given(maps)
def test_empty_layers_change_nothing(layer: dict[str, Any]) -> None:
    assert merge(layer, {}) == layer
    assert merge({}, layer) == layer


@given(maps, maps, maps)
def test_layers_fold_left_to_right(a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> None:
    assert merge_all(a, b, c) == merge(merge(a, b), c)


@given(maps, keys)
def test_null_deletes_the_key_once_applied(base: dict[str, Any], key: str) -> None:
    merged = merge(base, {key: None})

    assert merged[key] is None
    assert key not in effective(merged)


@given(st.lists(scalars, min_size=1, max_size=4), st.lists(scalars, max_size=4))
def test_lists_replace_whole(old: list[Any], new: list[Any]) -> None:
    assert merge({"list": old}, {"list": new}) == {"list": new}


def test_set_path_builds_missing_maps_and_lists() -> None:
    base = {"server": {"retention": "15d"}}

    result = set_path(base, r"server.remoteWrite[1].url", "https://x")

    assert result == {"server": {"retention": "15d", "remoteWrite": [None, {"url": "https://x"}]}}
    assert base == {"server": {"retention": "15d"}}
    assert set_path({}, r"grafana\.ini.log.level", "debug") == {
        "grafana.ini": {"log": {"level": "debug"}}
    }


def test_building_values_leaves_the_defaults_alone() -> None:
    pristine = {c: default_values(c) for c in ("prometheus", "grafana", "loki", "tempo")}
    spec = {
        "prometheus": {"retention": "1d", "config": {"server": {"global": None}}},
        "loki": {"replicas": 1},
        "tempo": {},
        "grafana": {},
    }

    first = plan_platform(platform(spec))
    for plan in first:  # a caller scribbling on its result must not leak into the next build
        plan.values.clear()
        plan.base_values.clear()
        plan.config.clear()
    second = plan_platform(platform(spec))

    assert {c: default_values(c) for c in pristine} == pristine
    assert second[0].values["server"]["retention"] == "1d"
    assert second[0].values["server"]["global"] is None
    assert [p.values for p in plan_platform(platform(spec))] == [p.values for p in second]

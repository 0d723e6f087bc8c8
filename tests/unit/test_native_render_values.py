"""Native Prometheus as the chart writes it where the values leave something out, and values
that cannot be rendered named by a path that reads one way (keys with dots quoted), their text
never quoted: ``extraScrapeConfigs`` holds scrape credentials."""

from __future__ import annotations

from typing import Any

import pytest

from shared.native.render import RenderError
from shared.values.merge import merge
from tests.unit.test_native_render import SECRET, container, objects_of, variant_plan


def prometheus_args(override: dict[str, Any]) -> list[str]:
    plan = variant_plan("prometheus-default")
    args: list[str] = container(objects_of(plan, values=merge(plan.complete_values([]), override)))[
        "args"
    ]
    return args


def test_an_empty_retention_leaves_prometheus_its_own_default() -> None:
    args = prometheus_args({"server": {"retention": ""}})

    assert not [arg for arg in args if arg.startswith("--storage.tsdb.retention.time")]
    assert "--storage.tsdb.path=/data" in args


def test_a_retention_is_passed_on() -> None:
    assert "--storage.tsdb.retention.time=12h" in prometheus_args({"server": {"retention": "12h"}})


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # An unclosed flow mapping: PyYAML's own message quotes the line with the password.
        (
            f"- job_name: a\n  basic_auth: {{username: u, password: {SECRET}\n",
            "not valid YAML: did not find expected ',' or '}' (line 3, column 1)",
        ),
        # A password that starts with '*' reads as an alias, which PyYAML names.
        (
            f"- job_name: a\n  basic_auth:\n    password: *{SECRET}\n",
            "an alias to no anchor before it (or to the value it is in) (line 3, column 15)",
        ),
        (
            f"- job_name: a\n  authorization: {{credentials: !{SECRET} x}}\n",
            "a tag of its own is not accepted",
        ),
        (f"- job_name: a\n  basic_auth: {{password: !!binary {SECRET}}}\n", "the tag !!binary"),
    ],
)
def test_extra_scrape_configs_that_are_not_yaml_are_refused_by_place_not_by_quote(
    text: str, where: str
) -> None:
    plan = variant_plan("prometheus-default")
    values = merge(plan.complete_values([]), {"extraScrapeConfigs": text})

    with pytest.raises(RenderError) as refused:
        objects_of(plan, values=values)

    message = str(refused.value)
    assert message.startswith("prometheus values extraScrapeConfigs: ") and where in message
    assert SECRET not in message
    assert "password" not in message and "credentials" not in message


def test_a_key_with_dots_is_quoted_in_the_path_so_the_path_reads_one_way() -> None:
    plan = variant_plan("grafana-default")
    ini = {"grafana.ini": {"auth.generic_oauth": {"client_id": "gunj\n[security]"}}}
    values = merge(plan.complete_values([]), ini)

    with pytest.raises(RenderError) as refused:
        objects_of(plan, values=values)

    assert str(refused.value) == (
        'grafana values ["grafana.ini"]["auth.generic_oauth"].client_id: '
        "a setting cannot span lines"
    )

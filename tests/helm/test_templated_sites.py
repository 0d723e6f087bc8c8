"""Every `tpl` in every packaged test chart is a site the table of evaluated values
(shared/values/data/templated.yaml) covers, so a chart that starts evaluating another value
cannot go unnoticed.

The test charts evaluate what upstream evaluates. Each `tpl` call is preceded by a comment naming
the values it evaluates, in the table's syntax (`{{- /* tpl: ingress.annotations.* */}}`); the
render tests (test_template_injection.py) show for each entry that the value is evaluated."""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass

import pytest

from shared.localstack.chartrepo import PackagedChart
from shared.localstack.stack import Stack
from shared.values.templated import TemplatedPath, path_tokens, templated_charts
from shared.values.templating import covers

# A comment action, whole, and a `tpl` call outside one.
_COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.S)
_ANNOTATION = re.compile(r"\{\{-?\s*/\*\s*tpl:\s*(.*?)\s*\*/\s*-?\}\}")
_CALL = re.compile(r"\btpl\b")


@dataclass(frozen=True)
class Site:
    chart: str
    file: str
    line: int
    paths: tuple[str, ...]
    """The values the call evaluates, as its comment names them (none: not named)."""


def sites(template: str, chart: str, file: str) -> list[Site]:
    """Each line of ``template`` that calls ``tpl``, with the values its comment names."""
    found, pending = [], []
    for number, line in enumerate(template.splitlines(), start=1):
        annotations = _ANNOTATION.findall(line)
        code = _COMMENT.sub("", line)
        if _CALL.search(code):
            names = [*pending, *annotations]
            paths = tuple(p.strip() for a in names for p in a.split(","))
            found.append(Site(chart, file, number, paths))
            pending = []
        elif annotations:
            pending += annotations
        elif code.strip():
            pending = []
    return found


def example(path: str) -> tuple[tuple[str | int, ...], bool]:
    """A location the table path names (``*``: a key, ``[*]``: the first item), and whether
    the path is a subtree."""
    tokens = path_tokens(path)
    subtree = tokens[-1] == "**"
    location = tuple(
        0 if t == "[*]" else "key" if t == "*" else t for t in (tokens[:-1] if subtree else tokens)
    )
    return location, subtree


def covered(paths: tuple[TemplatedPath, ...], path: str) -> bool:
    """Whether the table evaluates what ``path`` names: its value, and for a subtree a key and
    a value below it."""
    location, subtree = example(path)
    wanted = [(location, False)]
    if subtree:
        wanted += [((*location, "below"), True), ((*location, "below"), False)]
    return all(any(covers(p, where, key=key) for p in paths) for where, key in wanted)


def packaged_templates(chart: PackagedChart) -> dict[str, str]:
    """Every template of a packaged chart (its library charts' included), by path."""
    with tarfile.open(chart.path) as archive:
        return {
            member.name: archive.extractfile(member).read().decode()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
            and "/templates/" in member.name
            and member.name.endswith((".yaml", ".tpl", ".txt"))
        }


def test_scan_finds_named_and_unnamed_calls() -> None:
    template = (
        "{{- /* tpl: a.b, c.** */}}\n"
        "{{ tpl .Values.a.b . }}\n"
        "{{/* a comment about tpl is no call */}}\n"
        "{{- /* tpl: d */}}\n"
        "plain: line\n"
        "{{ tpl .Values.d . }}\n"
    )

    assert [(s.line, s.paths) for s in sites(template, "x", "t.yaml")] == [
        (2, ("a.b", "c.**")),
        (6, ()),
    ]


def test_table_coverage_of_a_path() -> None:
    grafana = templated_charts()["grafana"].paths

    assert covered(grafana, "ingress.annotations.*")
    assert covered(grafana, "affinity.**")
    assert not covered(grafana, "tolerations.**")
    # A single value's entry does not cover a subtree below it.
    assert not covered(grafana, "admin.existingSecret.**")


def test_every_tpl_in_every_packaged_test_chart_is_in_the_table(local_stack: Stack) -> None:
    table = templated_charts()
    charts = [c for c in local_stack.charts if c.name in table]
    assert {c.name for c in charts} == set(table)
    problems = []
    for chart in charts:
        paths = table[chart.name].paths
        for file, text in packaged_templates(chart).items():
            for site in sites(text, chart.name, file):
                where = f"{chart.name} {chart.version} {file}:{site.line}"
                if not site.paths:
                    problems.append(f"{where}: tpl without a comment naming what it evaluates")
                problems += [
                    f"{where}: {path} is not in the table of {chart.name}"
                    for path in site.paths
                    if not covered(paths, path)
                ]

    assert problems == []


@pytest.mark.parametrize("component", ["prometheus", "grafana", "loki", "tempo"])
def test_test_charts_evaluate_values(component: str, local_stack: Stack) -> None:
    """Each test chart has sites to check (a scan that finds nothing proves nothing)."""
    chart = next(c for c in local_stack.charts if c.name == component)
    found = [s for f, t in packaged_templates(chart).items() for s in sites(t, component, f)]

    assert found

"""The Grafana dashboard shipped for gunj's metrics is one Grafana can load (a uid and title,
panels of built-in types with unique ids placed on its 24-column grid without overlapping,
queries on the dashboard's Prometheus data source variable), and its queries ask only for
metrics and labels ``/metrics`` exposes (the exposition made from outcomes that count in every
metric)."""

from __future__ import annotations

import json
import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from shared.engine.outcome import ComponentReport, Outcome, Result
from shared.localstack.exporter import Figures
from shared.telemetry.dashboards import GUNJ
from shared.telemetry.metrics import METRICS

BUILT_IN_PANELS = {"timeseries", "bargauge", "stat", "table", "gauge", "barchart", "text"}
FUNCTIONS = {"sum", "rate", "increase", "histogram_quantile"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def exposed() -> dict[str, set[str]]:
    """Each sample name ``/metrics`` serves and its labels, from outcomes that count in every
    metric."""
    counted = Figures()
    cases: tuple[tuple[Result, str, tuple[str, ...]], ...] = (
        ("rolled-back", "InSync", ("rollback", "quarantine", "verify")),
        ("stalled", "Stalled", ("correct", "upgrade failed")),
    )
    for result, state, actions in cases:
        outcome = Outcome(
            result,
            "x",
            platform="team/obs",
            cluster="prod",
            components=(ComponentReport("grafana", state, "x", actions=actions),),
            duration=1.0,
        )
        counted.count("reconcile", outcome.to_json())
    families = text_string_to_metric_families(counted.exposition().decode())
    found: dict[str, set[str]] = {}
    for family in families:
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


def dashboard() -> dict[str, Any]:
    loaded = json.loads(GUNJ.read_text())
    assert isinstance(loaded, dict)
    return loaded


def selected(expr: str) -> list[tuple[str, set[str]]]:
    """Each metric ``expr`` selects, with the labels it matches on or groups by."""
    found = []
    for name, matchers in re.findall(r"\b([a-zA-Z_:][\w:]*)(\{[^}]*\})?\[", expr):
        labels = set(re.findall(r"(\w+)\s*=~?", matchers))
        found.append((name, labels))
    return found


def test_the_dashboard_is_one_grafana_loads() -> None:
    board = dashboard()

    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", board["uid"])
    assert board["title"] and isinstance(board["schemaVersion"], int)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == (
        "datasource",
        "prometheus",
    )
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        assert panel["type"] in BUILT_IN_PANELS, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        taken = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not taken & cells, f"{panel['title']} overlaps another panel"
        cells |= taken
        assert panel["datasource"] == DATASOURCE
        assert panel["targets"], panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        assert all(t["datasource"] == DATASOURCE for t in panel["targets"])
    # A spec may carry it in extraObjects on a cluster that allows no templates.
    assert "{{" not in GUNJ.read_text()


def test_every_query_asks_for_metrics_and_labels_metrics_exposes() -> None:
    served = exposed()
    board = dashboard()
    queries = [t["expr"] for p in board["panels"] for t in p["targets"]]
    charted = set()

    for expr in queries:
        metrics = selected(expr)
        assert metrics, expr
        for name, labels in metrics:
            assert name in served, f"{name} is not served at /metrics: {expr}"
            assert labels <= served[name], (expr, labels - served[name])
            charted.add(name)
        grouped = {
            label.strip()
            for group in re.findall(r"by \(([^)]*)\)", expr)
            for label in group.split(",")
        }
        assert grouped <= set().union(*(served[n] for n, _ in metrics)), expr
        called = set(re.findall(r"\b([a-z_]+)\s*\(", expr)) - {"by"}
        assert called <= FUNCTIONS, expr
    assert {re.sub(r"_bucket$", "", n) for n in charted} == {m.name for m in METRICS}
    cluster = {v["name"]: v for v in board["templating"]["list"]}["cluster"]
    assert cluster["query"]["query"] == "label_values(gunj_reconciles_total, cluster)"
    assert "cluster" in served["gunj_reconciles_total"]

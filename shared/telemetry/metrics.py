"""gunj's metrics: each one's name, kind, the outcomes it counts and its labels, all read from
an outcome's figures (:mod:`.figures`). The Terraform module defines the same metrics as
log-based metrics on the outcome's log line (``jsonPayload.telemetry.<figure>``), and
``gunj serve`` exposes them at ``/metrics`` under the same names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

# Bucket bounds of the duration distribution, in seconds: Cloud Monitoring's exponential
# buckets (scale 0.5, growth 2, 12 finite buckets) have these 13 bounds.
DURATION_BUCKETS: tuple[float, ...] = tuple(0.5 * 2**i for i in range(13))


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["counter", "histogram"]
    description: str
    labels: Mapping[str, str]
    """Each label and the figure it holds."""
    when: str
    """The figure an outcome must carry to be counted."""
    value: str | None = None
    """The figure a histogram observes."""

    def counts(self, figures: Mapping[str, str | float]) -> bool:
        return self.when in figures

    def label_values(self, figures: Mapping[str, str | float]) -> dict[str, str]:
        return {label: str(figures.get(figure, "")) for label, figure in self.labels.items()}


METRICS: tuple[Metric, ...] = (
    Metric(
        "gunj_reconciles_total",
        "counter",
        "Outcomes reported by gunj's functions, by function, result, cluster and components",
        {
            "function": "function",
            "result": "result",
            "cluster": "cluster",
            "components": "components",
        },
        when="result",
    ),
    Metric(
        "gunj_reconcile_duration_seconds",
        "histogram",
        "How long each function took for an outcome, in seconds",
        {"function": "function", "result": "result"},
        when="duration",
        value="duration",
    ),
    Metric(
        "gunj_rollbacks_total",
        "counter",
        "Outcomes in which components were rolled back",
        {
            "function": "function",
            "cluster": "cluster",
            "platform": "platform",
            "component": "rolled_back",
        },
        when="rolled_back",
    ),
    Metric(
        "gunj_drift_corrections_total",
        "counter",
        "Outcomes in which live objects that had drifted were put back",
        {"cluster": "cluster", "platform": "platform", "component": "corrected"},
        when="corrected",
    ),
    Metric(
        "gunj_quarantines_total",
        "counter",
        "Outcomes in which what a rollback returned from was quarantined",
        {"cluster": "cluster", "platform": "platform", "component": "quarantined"},
        when="quarantined",
    ),
    Metric(
        "gunj_stalled_total",
        "counter",
        "Outcomes that left a platform stalled or failed, needing a person",
        {"cluster": "cluster", "platform": "platform", "result": "result", "component": "stuck"},
        when="stalled",
    ),
)

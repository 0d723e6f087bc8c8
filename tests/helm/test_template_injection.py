"""Each value the charts evaluate as a template, rendered by the test charts (which evaluate them as
upstream does) with a template expression in it: as gunj writes it, the expression comes out as
text; written as it is, the chart runs it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from shared.helm import HelmClient
from shared.localstack.stack import Stack
from shared.values.merge import merge_all, set_path
from shared.values.plan import ComponentPlan, plan_platform
from shared.values.templating import neutralise_values
from tests.support import http_chart, latest_version
from tests.unit.test_values_fields import platform
from tests.unit.test_values_templating import RENDER_TESTED

EXPRESSION = "{{ .Release.Name }}"
MARKER = f"gunj-marker-{EXPRESSION}"
SPEC: dict[str, Any] = {
    "prometheus": {},
    "loki": {"storage": {"type": "s3", "bucketNames": {"chunks": "chunks"}}},
    "tempo": {},
    "grafana": {
        "adminCredentials": {"existingSecret": "admin"},
        "dashboards": {"sidecar": {"enabled": True}},
        "ingress": {"host": "grafana.example.com"},
    },
}
PLANS = {plan.component: plan for plan in plan_platform(platform(SPEC))}

# (component, table entry, where in the values the expression goes, the value put there)
CASES: list[tuple[str, str, str, Any]] = [
    (
        "prometheus",
        "extraScrapeConfigs",
        "extraScrapeConfigs",
        yaml.safe_dump([{"job_name": MARKER, "static_configs": [{"targets": ["a:9100"]}]}]),
    ),
    ("prometheus", "server.remoteWrite[*].url", "server.remoteWrite[0].url", f"https://{MARKER}"),
    ("prometheus", "server.remoteRead[*].url", "server.remoteRead[0].url", f"https://{MARKER}"),
    (
        "prometheus",
        "extraManifests.**",
        "extraManifests[0]",
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "m"},
                "data": {"m": MARKER},
            }
        ),
    ),
    ("grafana", r"grafana\.ini.*", r"grafana\.ini.instance_name", MARKER),
    ("grafana", r"grafana\.ini.*.*", r"grafana\.ini.server.domain", MARKER),
    (
        "grafana",
        "datasources.**",
        r"datasources.datasources\.yaml.datasources[0]",
        {"name": MARKER, "type": "loki", "jsonData": {MARKER: MARKER}},
    ),
    ("grafana", "admin.existingSecret", "admin.existingSecret", MARKER),
    ("grafana", "envFromSecret", "envFromSecret", MARKER),
    ("grafana", "sidecar.*.label", "sidecar.dashboards.label", MARKER),
    ("grafana", "sidecar.*.labelValue", "sidecar.dashboards.labelValue", MARKER),
    ("grafana", "ingress.annotations.*", "ingress.annotations.marker", MARKER),
    ("grafana", "ingress.hosts.**", "ingress.hosts[0]", MARKER),
    ("loki", "loki.config", "loki.config", f"marker: {MARKER}\n"),
    ("loki", "loki.structuredConfig.**", "loki.structuredConfig.marker", MARKER),
    ("loki", "loki.storage.**", "loki.storage.bucketNames.chunks", MARKER),
    ("loki", "loki.schemaConfig.**", "loki.schemaConfig.configs[0].index.prefix", MARKER),
    ("loki", "loki.limits_config.**", "loki.limits_config.marker", MARKER),
    ("loki", "loki.compactor.**", "loki.compactor.marker", MARKER),
    ("loki", "loki.server.**", "loki.server.marker", MARKER),
    ("loki", "loki.commonConfig.**", "loki.commonConfig.path_prefix", MARKER),
    ("tempo", "config", "config", f"marker: {MARKER}\n"),
]


def test_every_render_tested_entry_has_a_case() -> None:
    assert {(c, entry) for c, paths in RENDER_TESTED.items() for entry in paths} == {
        (c, entry) for c, entry, _, _ in CASES
    }


def rendered(helm: HelmClient, stack: Stack, plan: ComponentPlan, values: Any) -> str:
    chart = http_chart(stack, plan.chart, latest_version(stack, plan.chart))
    return helm.template(plan.release, chart, plan.namespace, values=values)


@pytest.mark.parametrize(
    ("component", "location", "value"),
    [(c, location, value) for c, _, location, value in CASES],
    ids=[f"{c}:{entry}" for c, entry, _, _ in CASES],
)
def test_expression_renders_as_text_only_when_neutralised(
    component: str, location: str, value: Any, helm: HelmClient, local_stack: Stack
) -> None:
    plan = PLANS[component]
    written = set_path({}, location, value)
    evaluated = f"gunj-marker-{plan.release}"

    as_gunj_writes = rendered(
        helm, local_stack, plan, merge_all(plan.values, neutralise_values(component, written))
    )
    as_written = rendered(helm, local_stack, plan, merge_all(plan.values, written))

    assert MARKER in as_gunj_writes
    assert evaluated not in as_gunj_writes
    # The test chart does evaluate this value: without neutralising, the expression runs.
    assert evaluated in as_written

"""Size limits: a spec too large for the API server and Pub/Sub is refused with its size and the
limit; objects that values would make too large are named before anything is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from shared.values.limits import SPEC_LIMIT, oversized_objects
from shared.values.validation import validate
from tests.unit.test_values_fields import plan_for
from tests.unit.test_values_validation import EXAMPLES, document


def scrape_jobs(count: int) -> list[dict[str, Any]]:
    return [
        {
            "job_name": f"job-{index}",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [f"host-{index}.example.com:9100"]}],
            "relabel_configs": [{"target_label": "team", "replacement": "observability"}],
        }
        for index in range(count)
    ]


def test_a_5_mb_spec_is_refused_with_its_size_and_the_limit() -> None:
    big = document({"prometheus": {"additionalScrapeConfigs": scrape_jobs(30000)}})

    result = validate(big)

    assert result.platform is None
    [problem] = result.problems
    assert "MiB (as JSON)" in problem.message
    assert "at most 512.0 KiB" in problem.message


def test_a_spec_under_the_limit_is_accepted() -> None:
    result = validate(document({"prometheus": {"additionalScrapeConfigs": scrape_jobs(1500)}}))

    assert result.ok
    assert SPEC_LIMIT == 512 * 1024


def test_cli_refuses_a_large_spec(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(
        json.dumps(document({"prometheus": {"additionalScrapeConfigs": scrape_jobs(30000)}}))
    )

    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "gunj accepts at most 512.0 KiB" in result.stdout


def test_values_from_content_that_overfills_the_server_configmap_is_named() -> None:
    plan = plan_for(
        {"prometheus": {"valuesFrom": [{"kind": "ConfigMap", "name": "jobs"}]}}, "prometheus"
    )
    # What the ConfigMap's key holds: scrape configs as a YAML (here JSON) string.
    layer = {"extraScrapeConfigs": json.dumps(scrape_jobs(12000))}

    found = oversized_objects(plan, plan.complete_values([layer]))

    assert found[0].startswith("ConfigMap obs-prometheus-server would hold ")
    assert found[0].endswith("the API server accepts at most 1.0 MiB in a ConfigMap")


def test_large_dashboards_are_named() -> None:
    plan = plan_for({"grafana": {}}, "grafana")
    dashboard = {"panels": [{"id": i, "title": f"panel {i} " + "x" * 200} for i in range(8000)]}

    found = oversized_objects(
        plan, plan.complete_values([{"dashboards": {"default": {"big": {"json": dashboard}}}}])
    )

    assert any(f.startswith("ConfigMap obs-grafana-dashboards-default would hold") for f in found)


def test_a_release_record_over_the_secret_limit_is_named() -> None:
    plan = plan_for({"tempo": {}}, "tempo")
    noise = os.urandom(600 * 1024).hex()  # does not compress

    found = oversized_objects(plan, plan.complete_values([{"podAnnotations": {"n": noise}}]))

    assert len(found) == 1
    assert found[0].startswith("Secret sh.helm.release.v1.obs-tempo (Helm's record")
    assert found[0].endswith("the API server accepts at most 1.0 MiB in a Secret")


def test_the_examples_fit() -> None:
    from shared.values.plan import plan_platform
    from shared.values.validation import load_platform

    for example in ("minimal", "production"):
        for plan in plan_platform(load_platform((EXAMPLES / f"{example}.yaml").read_text())):
            assert oversized_objects(plan, plan.values) == []

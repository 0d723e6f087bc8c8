"""A spec's additionalScrapeConfigs are appended to the prometheus chart's own scrape jobs, and
Prometheus refuses a configuration with two jobs of one name: the chart's names are refused by
field path before anything is installed."""

from __future__ import annotations

import pytest

from shared.values.names import RESERVED_SCRAPE_JOBS
from shared.values.validation import validate
from tests.unit.test_values_validation import document


def scrape_problems(*jobs: str) -> dict[str, str]:
    spec = {
        "prometheus": {
            "additionalScrapeConfigs": [
                {"job_name": job, "static_configs": [{"targets": ["a:9100"]}]} for job in jobs
            ]
        }
    }
    return {p.path: p.message for p in validate(document(spec)).problems}


def test_the_chart_default_jobs_are_all_reserved() -> None:
    assert set(RESERVED_SCRAPE_JOBS) == {
        "prometheus",
        "kubernetes-api-servers",
        "kubernetes-apiservers",
        "kubernetes-nodes",
        "kubernetes-nodes-cadvisor",
        "kubernetes-service-endpoints",
        "kubernetes-service-endpoints-slow",
        "prometheus-pushgateway",
        "kubernetes-services",
        "kubernetes-pods",
        "kubernetes-pods-slow",
    }


@pytest.mark.parametrize("job", RESERVED_SCRAPE_JOBS)
def test_a_job_named_like_one_of_the_chart_is_refused_by_its_field(job: str) -> None:
    found = scrape_problems("blackbox", job)

    assert list(found) == ["spec.prometheus.additionalScrapeConfigs[1].job_name"]
    message = found["spec.prometheus.additionalScrapeConfigs[1].job_name"]
    assert message.startswith(f"{job} is one of the prometheus chart's own jobs")


def test_jobs_with_names_of_their_own_are_accepted() -> None:
    assert scrape_problems("blackbox", "kubernetes-pods-fast", "my-prometheus") == {}

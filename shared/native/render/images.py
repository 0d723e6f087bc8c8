"""The image each component runs: the app version the spec asks for, else the one the newest
supported chart deploys; a tag set in the values (as the chart's image tag) wins, as it does in
Helm mode."""

from __future__ import annotations

APP_VERSIONS: dict[str, str] = {
    "prometheus": "v3.14.0",
    "grafana": "13.2.0",
    "loki": "3.7.6",
    "tempo": "2.10.8",
}
REPOSITORIES: dict[str, str] = {
    "prometheus": "quay.io/prometheus/prometheus",
    "grafana": "docker.io/grafana/grafana",
    "loki": "docker.io/grafana/loki",
    "tempo": "docker.io/grafana/tempo",
}
# Prometheus tags its images v3.14.0; Grafana, Loki and Tempo 13.2.0. A spec takes either form.
_V_PREFIXED = {"prometheus"}


def image(component: str, app_version: str | None, tag: str = "") -> str:
    if not tag:
        version = (app_version or APP_VERSIONS[component]).removeprefix("v")
        tag = f"v{version}" if component in _V_PREFIXED else version
    return f"{REPOSITORIES[component]}:{tag}"

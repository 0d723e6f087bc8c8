"""Release names and the Service addresses other components reach them at.

Releases are named ``<platform>-<component>``. Every test and upstream chart names its main
objects after the release when the release name contains the chart name, which it does here, so
the Service names below follow from the release name alone (see the upstream chart facts).
"""

from __future__ import annotations

import re

HELM_RELEASE_NAME_MAX = 53
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

# The scrape jobs the prometheus chart (prometheus-community 29.x, its scrapeConfigs map, each
# key a job's name) and native mode (``kubernetes-apiservers`` for the chart's
# ``kubernetes-api-servers``) define themselves. The chart appends extraScrapeConfigs after
# them, and Prometheus refuses a configuration with two jobs of one name, so a spec's job may not
# take one of these.
RESERVED_SCRAPE_JOBS: tuple[str, ...] = (
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
)


def release_name(platform: str, component: str) -> str:
    return f"{platform}-{component}"


def release_name_problem(platform: str, component: str) -> str | None:
    """Why ``<platform>-<component>`` cannot be a Helm release name, or None."""
    name = release_name(platform, component)
    if len(name) > HELM_RELEASE_NAME_MAX:
        room = HELM_RELEASE_NAME_MAX - len(component) - 1
        return (
            f"release name {name} is {len(name)} characters; Helm allows "
            f"{HELM_RELEASE_NAME_MAX}, so the platform name may have at most {room}"
        )
    if not _DNS_LABEL.fullmatch(name):
        return f"release name {name} is not a DNS-1123 label"
    return None


def service_host(service: str, namespace: str) -> str:
    return f"{service}.{namespace}.svc"


def prometheus_url(platform: str, namespace: str) -> str:
    server = f"{release_name(platform, 'prometheus')}-server"
    return f"http://{service_host(server, namespace)}:80"


def prometheus_remote_write_url(platform: str, namespace: str) -> str:
    return f"{prometheus_url(platform, namespace)}/api/v1/write"


def loki_url(platform: str, namespace: str, *, gateway: bool) -> str:
    release = release_name(platform, "loki")
    if gateway:
        return f"http://{service_host(f'{release}-gateway', namespace)}:80"
    return f"http://{service_host(release, namespace)}:3100"


def tempo_url(platform: str, namespace: str) -> str:
    return f"http://{service_host(release_name(platform, 'tempo'), namespace)}:3200"

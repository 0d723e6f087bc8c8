"""The scrape jobs a native Prometheus starts with: itself, and what Kubernetes service discovery
finds in the cluster, as the upstream chart's defaults do: the API servers, each node's kubelet
and cAdvisor, and the Services and pods that ask to be scraped through the conventional
``prometheus.io/*`` annotations (``scrape: "true"``, ``scheme``, ``path``, ``port``).

Discovery reads the API with the server's own ServiceAccount; the API servers and kubelets are
scraped over TLS with the same token. The values' ``scrapeConfigs`` (the chart's map of its
default jobs, by job name) turn a job off (``enabled: false``) or replace its
``kubernetes_sd_configs``, as they do in the chart: that is how discovery is kept to some
namespaces, and the server's RBAC follows (:func:`discovered_namespaces`).
"""

from __future__ import annotations

from typing import Any

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_FILE = f"{SERVICE_ACCOUNT_DIR}/token"
CA_FILE = f"{SERVICE_ACCOUNT_DIR}/ca.crt"
_IN_CLUSTER_TLS: dict[str, Any] = {
    "scheme": "https",
    "authorization": {"type": "Bearer", "credentials_file": TOKEN_FILE},
    "tls_config": {"ca_file": CA_FILE},
}


def _keep_annotated(kind: str) -> list[dict[str, Any]]:
    """Relabelling for targets that opt in with ``prometheus.io/*`` annotations on their
    ``kind`` (service or pod)."""
    annotation = f"__meta_kubernetes_{kind}_annotation_prometheus_io"
    return [
        {"source_labels": [f"{annotation}_scrape"], "regex": "true", "action": "keep"},
        {
            "source_labels": [f"{annotation}_scheme"],
            "regex": "(https?)",
            "target_label": "__scheme__",
        },
        {
            "source_labels": [f"{annotation}_path"],
            "regex": "(.+)",
            "target_label": "__metrics_path__",
        },
        {
            # host[:port] and the annotated port: host:annotated port (IPv6 hosts keep brackets).
            "source_labels": ["__address__", f"{annotation}_port"],
            "regex": r"(.+?)(?::\d+)?;(\d+)",
            "replacement": "$1:$2",
            "target_label": "__address__",
        },
        {"action": "labelmap", "regex": f"__meta_kubernetes_{kind}_label_(.+)"},
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": [f"__meta_kubernetes_{kind}_name"], "target_label": kind},
    ]


def _node_job(name: str, metrics_path: str) -> dict[str, Any]:
    return {
        "job_name": name,
        **_IN_CLUSTER_TLS,
        "metrics_path": metrics_path,
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": [
            {"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"},
            {"source_labels": ["__meta_kubernetes_node_name"], "target_label": "node"},
        ],
    }


def default_jobs() -> list[dict[str, Any]]:
    return [
        {"job_name": "prometheus", "static_configs": [{"targets": ["localhost:9090"]}]},
        {
            "job_name": "kubernetes-apiservers",
            **_IN_CLUSTER_TLS,
            "kubernetes_sd_configs": [
                {"role": "endpointslice", "namespaces": {"names": ["default"]}}
            ],
            "relabel_configs": [
                {
                    "source_labels": [
                        "__meta_kubernetes_service_name",
                        "__meta_kubernetes_endpointslice_port_name",
                    ],
                    "regex": "kubernetes;https",
                    "action": "keep",
                }
            ],
        },
        _node_job("kubernetes-nodes", "/metrics"),
        _node_job("kubernetes-nodes-cadvisor", "/metrics/cadvisor"),
        {
            "job_name": "kubernetes-service-endpoints",
            "kubernetes_sd_configs": [{"role": "endpointslice"}],
            "relabel_configs": [
                *_keep_annotated("service"),
                {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "node"},
            ],
        },
        {
            "job_name": "kubernetes-pods",
            "kubernetes_sd_configs": [{"role": "pod"}],
            "relabel_configs": [
                *_keep_annotated("pod"),
                {
                    "source_labels": ["__meta_kubernetes_pod_phase"],
                    "regex": "Pending|Succeeded|Failed|Completed",
                    "action": "drop",
                },
            ],
        },
    ]


# The chart's key for a default job whose name here differs.
CHART_KEYS = {"kubernetes-apiservers": "kubernetes-api-servers"}


def _overridden(job: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any] | None:
    """``job`` as the values' ``scrapeConfigs`` entry for it leaves it (None: turned off)."""
    name = job["job_name"]
    override = overrides.get(name, overrides.get(CHART_KEYS.get(name, name)))
    if not isinstance(override, dict):
        return job
    if override.get("enabled") is False:
        return None
    if isinstance(override.get("kubernetes_sd_configs"), list):
        return {**job, "kubernetes_sd_configs": override["kubernetes_sd_configs"]}
    return job


def scrape_configs(
    extra: list[dict[str, Any]], overrides: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The default jobs (as ``overrides``, the values' ``scrapeConfigs``, leave them) and the
    values' own, in that order. A job of the values with a default job's name takes its place:
    Prometheus refuses two jobs of one name."""
    taken = {job.get("job_name") for job in extra}
    jobs = [_overridden(job, overrides or {}) for job in default_jobs()]
    return [job for job in jobs if job and job["job_name"] not in taken] + extra


def discovered_namespaces(jobs: list[dict[str, Any]]) -> list[str] | None:
    """The namespaces the default ``jobs`` discover in, or None when one discovers
    cluster-wide (a node job, or one naming no namespaces)."""
    names: list[str] = []
    for job in jobs:
        for config in job.get("kubernetes_sd_configs") or []:
            listed = (config.get("namespaces") or {}).get("names") or []
            if config.get("role") == "node" or not listed:
                return None
            names += [name for name in listed if name not in names]
    return names

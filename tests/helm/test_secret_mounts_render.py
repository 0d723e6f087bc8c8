"""A Secret whose name has dots (``db.creds``, a valid Kubernetes object name) is mounted by the
charts, rendered with Helm 3 and Helm 4, through a volume whose name Kubernetes accepts (a
DNS-1123 label), at the folder the component's configuration reads the key from."""

from __future__ import annotations

import configparser
import re
from typing import Any

import yaml

from shared.helm import HelmClient
from shared.localstack.stack import Stack
from tests.helm.test_values_render import find, render
from tests.unit.test_values_fields import plan_for
from tests.unit.test_values_secret_mounts import grafana_database, remote_writes

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
SECRET = "db.creds"


def pod_spec(documents: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [workload] = [
        d
        for d in documents
        if d["kind"] in {"Deployment", "StatefulSet"} and d["metadata"]["name"] == name
    ]
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def secret_mount_path(spec: dict[str, Any], secret: str) -> str:
    """Where the pod mounts ``secret``, checking the volume's name on the way."""
    [volume] = [v for v in spec["volumes"] if v.get("secret", {}).get("secretName") == secret]
    assert DNS_LABEL.fullmatch(volume["name"]), volume["name"]
    names = {v["name"] for v in spec["volumes"]}
    assert len(names) == len(spec["volumes"]), "two volumes share a name"
    [path] = [
        mount["mountPath"]
        for container in spec["containers"]
        for mount in container.get("volumeMounts", [])
        if mount["name"] == volume["name"]
    ]
    return str(path)


def test_grafana_reads_its_database_password_from_a_secret_named_with_dots(
    helm: HelmClient, local_stack: Stack
) -> None:
    plan = plan_for(grafana_database(SECRET), "grafana")
    documents = render(helm, local_stack, plan)

    path = secret_mount_path(pod_spec(documents, plan.release), SECRET)
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(find(documents, "ConfigMap", plan.release)["data"]["grafana.ini"])
    assert ini["database"]["password"] == f"$__file{{{path}/password}}"


def test_prometheus_remote_writes_with_secrets_named_with_dots(
    helm: HelmClient, local_stack: Stack
) -> None:
    plan = plan_for(remote_writes(SECRET, "db-creds"), "prometheus")
    documents = render(helm, local_stack, plan)

    spec = pod_spec(documents, f"{plan.release}-server")
    paths = [secret_mount_path(spec, SECRET), secret_mount_path(spec, "db-creds")]
    config = yaml.safe_load(
        find(documents, "ConfigMap", f"{plan.release}-server")["data"]["prometheus.yml"]
    )
    assert [w["basic_auth"]["password_file"] for w in config["remote_write"]] == [
        f"{path}/password" for path in paths
    ]

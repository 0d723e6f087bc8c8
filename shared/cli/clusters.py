"""``gunj clusters``: the registered target clusters, and where the registry was read from."""

from __future__ import annotations

import argparse
import json
import sys

from ..clusters import ClusterRegistry, RegisteredCluster, RegistryError
from .table import print_table


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser(
        "clusters",
        help="list the registered clusters (GUNJ_CLUSTER_REGISTRY, GUNJ_CLUSTERS or "
        "~/.config/gunj/clusters.yaml)",
    )
    command.add_argument("--output", choices=("table", "json"), default="table")
    command.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    try:
        registry = ClusterRegistry.load()
    except RegistryError as error:
        print(f"gunj: {error}", file=sys.stderr)
        return 1
    clusters = registry.clusters()
    if arguments.output == "json":
        document = {"registry": registry.source, "clusters": [_json(c) for c in clusters]}
        print(json.dumps(document, indent=2))
        return 0
    print(f"registry: {registry.source}")
    if not clusters:
        print("no clusters registered (`gunj local up` registers the local stack as 'local')")
        return 0
    rows = [("NAME", "KIND", "TARGET", "ALIASES", "TEMPLATES")]
    rows += [
        (
            c.name,
            c.kind,
            c.describe(),
            ",".join(c.aliases) or "-",
            "allowed" if c.allow_templates else "-",
        )
        for c in clusters
    ]
    print_table(rows)
    return 0


def _json(cluster: RegisteredCluster) -> dict[str, object]:
    return {
        "name": cluster.name,
        "kind": cluster.kind,
        "target": cluster.describe(),
        "aliases": list(cluster.aliases),
        "allowTemplates": cluster.allow_templates,
        "secretManager": (
            {"project": grant.project, "secrets": list(grant.secrets)}
            if (grant := cluster.secret_grant) is not None
            else None
        ),
    }

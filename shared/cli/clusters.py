"""``gunj clusters``: the registered target clusters, and where the registry was read from;
``gunj clusters rbac``: the RBAC a cluster needs for platforms in a namespace to act as a
ServiceAccount of their own (:mod:`..clusters.rbac`)."""

from __future__ import annotations

import argparse
import json
import sys

from ..clusters import ClusterRegistry, RegisteredCluster, RegistryError, UnknownCluster
from .table import print_table

SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser(
        "clusters",
        help="list the registered clusters (GUNJ_CLUSTER_REGISTRY, GUNJ_CLUSTERS or "
        "~/.config/gunj/clusters.yaml)",
    )
    command.add_argument("--output", choices=("table", "json"), default="table")
    command.set_defaults(handler=run)
    commands = command.add_subparsers(dest="clusters_command")
    rbac = commands.add_parser(
        "rbac",
        help="print the RBAC (YAML, for kubectl apply) that lets platforms in the given "
        "namespaces of a cluster act as the cluster's serviceAccount",
    )
    rbac.add_argument("cluster", help="a registered cluster whose entry names a serviceAccount")
    rbac.add_argument("namespace", nargs="+", help="the namespaces platforms will live in")
    rbac.add_argument(
        "--controller",
        metavar="KIND:NAME",
        help="gunj's own identity on the cluster (User:NAME, Group:NAME or "
        "ServiceAccount:NAMESPACE/NAME): bound to gunj-controller and allowed to act as the "
        "namespaces' ServiceAccount; without it, bind those yourself",
    )
    rbac.set_defaults(handler=run_rbac)


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
    rows = [("NAME", "KIND", "TARGET", "ALIASES", "TEMPLATES", "NAMESPACES", "ACTS AS")]
    rows += [
        (
            c.name,
            c.kind,
            c.describe(),
            ",".join(c.aliases) or "-",
            "allowed" if c.allow_templates else "-",
            ",".join(c.tenancy.namespaces) or "any",
            f"serviceaccount {c.tenancy.service_account}"
            if c.tenancy.service_account
            else "registry credentials",
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
        "namespaces": list(cluster.tenancy.namespaces),
        "serviceAccount": cluster.tenancy.service_account,
        "secretManager": (
            {"project": grant.project, "secrets": list(grant.secrets)}
            if (grant := cluster.secret_grant) is not None
            else None
        ),
    }


def run_rbac(arguments: argparse.Namespace) -> int:
    from ..clusters.rbac import recipe, recipe_text, subject
    from ..values.crd import crd_manifest

    try:
        cluster = ClusterRegistry.load().find(arguments.cluster)
    except (RegistryError, UnknownCluster) as error:
        print(f"gunj: {error}", file=sys.stderr)
        return 1
    account = cluster.tenancy.service_account
    if account is None:
        print(
            f"gunj: cluster {cluster.name!r} names no serviceAccount in the registry: its "
            "platforms act with the registry's own credentials (add `serviceAccount: NAME`)",
            file=sys.stderr,
        )
        return 1
    refused = [n for n in arguments.namespace if not cluster.tenancy.allows(n)]
    if refused:
        print(
            f"gunj: {cluster.tenancy.refusal(cluster.name, refused[0])}",
            file=sys.stderr,
        )
        return 1
    controller = None
    if arguments.controller:
        kind, _, name = arguments.controller.partition(":")
        if kind not in SUBJECT_KINDS or not name:
            print(
                f"gunj: --controller: {arguments.controller!r} is not KIND:NAME with KIND one "
                f"of {', '.join(SUBJECT_KINDS)}",
                file=sys.stderr,
            )
            return 2
        controller = subject(kind, name)
    documents = recipe(crd_manifest(), list(arguments.namespace), account, controller)
    sys.stdout.write(recipe_text(documents))
    return 0

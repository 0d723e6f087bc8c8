"""``gunj clusters``: the registered target clusters, and where the registry was read from;
``gunj clusters rbac``: the RBAC a cluster needs for platforms in a namespace to act as a
ServiceAccount of their own (:mod:`..clusters.rbac`); ``gunj clusters token``: a new
Alertmanager token for some clusters, printed once, and the hash their registry entries list
(:mod:`..clusters.alerttokens`)."""

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
        action="append",
        default=[],
        help="gunj's own identity on the cluster (User:NAME, Group:NAME or "
        "ServiceAccount:NAMESPACE/NAME), once per identity (each function's in Google Cloud): "
        "bound to gunj-controller and allowed to act as the namespaces' ServiceAccount; "
        "without it, bind those yourself",
    )
    rbac.set_defaults(handler=run_rbac)
    token = commands.add_parser(
        "token",
        help="mint an Alertmanager token that may act on the given clusters: the token is "
        "printed once on stdout, its hash (what the registry's alertTokens lists) on stderr",
    )
    token.add_argument(
        "cluster", nargs="*", help="the clusters the token is for (names in the registry)"
    )
    token.add_argument(
        "--hash",
        action="store_true",
        help="mint nothing: read a token from stdin and print its hash on stdout",
    )
    token.add_argument(
        "--register",
        action="store_true",
        help="also list the hash in the alertTokens of each cluster, in the registry file",
    )
    token.set_defaults(handler=run_token)


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
    rows = [
        ("NAME", "KIND", "TARGET", "ALIASES", "TEMPLATES", "NAMESPACES", "ACTS AS", "ALERT TOKENS")
    ]
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
            str(len(c.alert_tokens)) if c.alert_tokens else "none",
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
        "alertTokens": list(cluster.alert_tokens),
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
    controllers = []
    for given in arguments.controller:
        kind, _, name = given.partition(":")
        if kind not in SUBJECT_KINDS or not name:
            print(
                f"gunj: --controller: {given!r} is not KIND:NAME with KIND one "
                f"of {', '.join(SUBJECT_KINDS)}",
                file=sys.stderr,
            )
            return 2
        controllers.append(subject(kind, name))
    documents = recipe(crd_manifest(), list(arguments.namespace), account, controllers)
    sys.stdout.write(recipe_text(documents))
    return 0


def run_token(arguments: argparse.Namespace) -> int:
    from ..clusters.alerttokens import mint, token_hash

    if arguments.hash:
        token = sys.stdin.readline().strip()
        if not token:
            print("gunj: --hash reads a token from stdin, and none was given", file=sys.stderr)
            return 2
    elif not arguments.cluster:
        print("gunj: name the clusters the token is for", file=sys.stderr)
        return 2
    else:
        token = mint()
    digest = token_hash(token)
    if arguments.register:
        if not arguments.cluster:
            print("gunj: --register needs the clusters to list the hash for", file=sys.stderr)
            return 2
        try:
            registry = ClusterRegistry.load()
            registry.add_alert_token(list(arguments.cluster), digest)
        except (RegistryError, UnknownCluster) as error:
            print(f"gunj: {error}", file=sys.stderr)
            return 1
    if arguments.hash:
        print(digest)
    else:
        print(token)
        print(f"hash: {digest}", file=sys.stderr)
    where = ", ".join(arguments.cluster)
    if arguments.register:
        print(f"listed in the alertTokens of {where} ({registry.source})", file=sys.stderr)
    elif arguments.cluster:
        print(
            f"list the hash in the alertTokens of {where} (registry file), or in "
            "alert_token_hashes of each in the Terraform module's clusters; the token goes to "
            "Alertmanager only, and is shown this once",
            file=sys.stderr,
        )
    return 0

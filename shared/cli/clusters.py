"""``gunj clusters``: the registered target clusters, and where the registry was read from;
``gunj clusters rbac``: the RBAC a cluster needs for platforms in a namespace to act as a
ServiceAccount of their own (:mod:`..clusters.rbac`); ``gunj clusters token``: a new
Alertmanager token for some clusters, printed once, and the hash their registry entries list
(:mod:`..clusters.alerttokens`); ``gunj clusters add|remove``: a cluster reached through a
kubeconfig file, registered or removed (the registry's format: docs/clusters.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..clusters import ClusterRegistry, RegisteredCluster, RegistryError, UnknownCluster
from .conventions import DONE, PERMANENT, add_output, emit
from .table import print_table

SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser(
        "clusters",
        help="list the registered clusters (GUNJ_CLUSTER_REGISTRY, GUNJ_CLUSTERS or "
        "~/.config/gunj/clusters.yaml)",
    )
    add_output(command)
    command.set_defaults(handler=run)
    commands = command.add_subparsers(dest="clusters_command", metavar="COMMAND")
    add = commands.add_parser(
        "add",
        help="register a cluster reached through a kubeconfig file (docs/clusters.md); an "
        "existing entry of that name is replaced, keeping its other fields",
    )
    add.add_argument("name", help="the name commands and specs will use for it")
    add.add_argument("--kubeconfig", type=Path, required=True, help="the kubeconfig file")
    add.add_argument("--context", help="its context (default: its current-context)")
    add.add_argument(
        "--alias", action="append", help="another name alerts may use for it (repeatable)"
    )
    add.set_defaults(handler=run_add)
    remove = commands.add_parser("remove", help="remove a cluster from the registry file")
    remove.add_argument("name", help="the registered name (not an alias)")
    remove.set_defaults(handler=run_remove)
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
    if arguments.output != "table":
        document = {"registry": registry.source, "clusters": [_json(c) for c in clusters]}
        emit(document, arguments.output)
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


def run_add(arguments: argparse.Namespace) -> int:
    """Register NAME as a kubeconfig file and context, after checking the file has the
    context: nothing is written for a file that cannot be read or a context it lacks."""
    from ..clusters.kubeconfig import KubeconfigProblem, parse, resolve_context

    path = arguments.kubeconfig.expanduser()
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        print(f"gunj clusters add: {path}: cannot read: {reason}", file=sys.stderr)
        return PERMANENT
    try:
        context = resolve_context(parse(text, str(path)), arguments.context, str(path))
        registry = ClusterRegistry.load()
        registry.register(arguments.name, path, context, aliases=arguments.alias)
    except (KubeconfigProblem, RegistryError) as error:
        print(f"gunj clusters add: {error}", file=sys.stderr)
        return PERMANENT
    print(f"registered {arguments.name!r} ({path}, context {context}) in {registry.source}")
    return DONE


def run_remove(arguments: argparse.Namespace) -> int:
    try:
        registry = ClusterRegistry.load()
        registry.unregister(arguments.name)
    except (RegistryError, UnknownCluster) as error:
        print(f"gunj clusters remove: {error}", file=sys.stderr)
        return PERMANENT
    print(f"removed {arguments.name!r} from {registry.source}")
    return DONE


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

"""``gunj upgrades``: what the fleet's platforms could be upgraded to, as the scheduled check
reports it (component, current version, newest patch / minor / major, the safe path, notes)."""

from __future__ import annotations

import argparse
import sys

from ..cache import cache_root
from ..clusters import ClusterRegistry, RegistryError, UnknownCluster
from ..upgrades.catalog import RunCatalog
from ..upgrades.run import ClusterFailure, PlatformReport, check_fleet
from .conventions import DONE, PERMANENT, TRANSIENT, add_output, emit
from .fleet import fleet_store
from .table import print_table
from .target import access, repository_environment


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser(
        "upgrades", help="check what each platform could be upgraded to, and how safely"
    )
    command.add_argument(
        "--cluster", action="append", help="a registered cluster (repeatable; default: all)"
    )
    command.add_argument("--platform", help="NAME or NAMESPACE/NAME")
    add_output(command)
    command.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    try:
        registry = ClusterRegistry.load()
        clusters = [registry.find(c).name for c in arguments.cluster or registry.names()]
    except (RegistryError, UnknownCluster) as error:
        print(f"gunj: {error}", file=sys.stderr)
        return PERMANENT
    if not clusters:
        print("no clusters registered (gunj clusters)", file=sys.stderr)
        return PERMANENT
    catalog = RunCatalog.for_run(repository_environment(registry.get(clusters[0])), cache_root())
    # Each cluster is reached only when its turn comes: one that cannot be is reported with the
    # others' results, not in place of them.
    reports, failed = check_fleet(
        clusters, access, catalog, platform=arguments.platform, fleet_store=fleet_store()
    )
    if arguments.output != "table":
        document = {
            "platforms": [r.to_json() for r in reports],
            "cluster_errors": dict(failed),
            "repository_errors": catalog.failures(),
        }
        emit(document, arguments.output)
    else:
        for index, report in enumerate(reports):
            if index:
                print()
            _print(report)
        for cluster, failure in failed.items():
            print(f"cluster {cluster}: {failure}", file=sys.stderr)
        if not reports and not failed:
            print("no platforms")
    return exit_code(failed, reports)


def exit_code(failed: dict[str, ClusterFailure], reports: list[PlatformReport]) -> int:
    """1 when a cluster refused or a platform's check failed; 3 when the only trouble is a
    cluster out of reach (run it again later); 0 otherwise."""
    if any(not f.transient for f in failed.values()) or any(r.error for r in reports):
        return PERMANENT
    return TRANSIENT if failed else DONE


def _print(report: PlatformReport) -> None:
    print(f"{report.platform} on {report.cluster}: {report.available()}")
    rows = [("COMPONENT", "CURRENT", "PATCH", "MINOR", "MAJOR", "PATH")]
    notes: list[str] = []
    for check in report.components:
        path = " -> ".join(f"{step.version}{'!' if step.breaking else ''}" for step in check.path)
        rows.append(
            (
                check.component,
                check.current or "-",
                check.newest_patch.version if check.newest_patch else "-",
                check.newest_minor.version if check.newest_minor else "-",
                check.newest_major.version if check.newest_major else "-",
                path or ("-" if not check.error else f"error: {check.error}"),
            )
        )
        for step in check.path:
            notes += [
                f"{check.component} {step.version}: {n['summary']} ({n['source']})"
                for n in step.notes
            ]
        notes += [f"{check.component}: {notice}" for notice in check.notices]
        if check.proposal:
            notes.append(
                f"{check.component}: automatic upgrade to {check.proposal} "
                f"(upgradePolicy.auto: {check.auto})"
            )
        elif check.why_not:
            notes.append(f"{check.component}: no automatic upgrade: {check.why_not}")
        if check.not_yet and check.not_yet != check.why_not:
            notes.append(f"{check.component}: not proposed yet: {check.not_yet}")
    print_table(rows, indent="  ")
    if any(step.breaking for check in report.components for step in check.path):
        print("  (! a step with a breaking change or a new major: read its notes first)")
    for note in notes:
        print(f"  - {note}")
    if report.proposal_note:
        print(f"  - {report.proposal_note}")

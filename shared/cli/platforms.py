"""``gunj apply``, ``status``, ``rollback``, ``uninstall`` and ``unquarantine``: the engine, for
a person at a terminal.

Progress goes to stderr while the engine works (which component, which step, how long so far);
the result goes to stdout, as a table or, with ``-o json|yaml``, as the outcome document the
functions publish. Exit codes as :mod:`.conventions` says: 0 done, 1 a permanent problem, 2
usage, 3 transient (deferred or unfinished: run it again later). ``uninstall`` asks first on a
terminal (``--yes`` skips the question; without a terminal it is required) and lists what it
would remove with ``--dry-run``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..clusters import RegistryError, UnknownCluster
from ..engine.look import judge_now
from ..engine.outcome import Outcome
from ..engine.parts import EngineParts
from ..engine.quarantine import SHORT_DIGEST
from ..engine.reconciler import Reconciler
from ..engine.request import Request
from ..engine.resource import StoredPlatform, list_platforms, platform_of
from ..errors import GunjError
from ..kube.errors import ApiError
from ..values.spec import COMPONENTS
from ..values.spec.status import ComponentState
from ..values.validation import InvalidPlatform, load_platform
from . import fleet
from .conventions import DONE, PERMANENT, USAGE, add_output, emit, is_stdin, read_text, shown
from .table import print_table
from .target import reconciler


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def command(name: str, help_text: str, *, fleet: str = "") -> argparse.ArgumentParser:
        """``fleet``: what the command does without ``--cluster`` (else it is required)."""
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument(
            "--cluster",
            required=not fleet,
            help="a registered cluster (gunj clusters)"
            + (f"; without it, {fleet}" if fleet else ""),
        )
        add_output(parser)
        return parser

    apply = command("apply", "make a cluster match a platform spec, one safe step at a time")
    apply.add_argument("file", type=Path, help="the spec (- for standard input)")
    apply.set_defaults(handler=run_apply)
    status = command(
        "status",
        "show platforms' status, per component",
        fleet="every platform of every registered cluster (from the fleet store, or each "
        "cluster asked with --live)",
    )
    status.add_argument("platform", nargs="?", help="NAME or NAMESPACE/NAME (default: all)")
    status.add_argument(
        "--live",
        action="store_true",
        help="look at each component now (its releases and live objects), not at what the "
        "last reconcile recorded; nothing is written. Without --cluster: ask every cluster "
        "now, not the fleet store",
    )
    status.set_defaults(handler=run_status)
    resync = command(
        "resync",
        "reconcile platforms from the spec their cluster holds, now: drifted live objects are "
        "found and corrected, as the scheduled resync does",
    )
    resync.add_argument(
        "platform", nargs="?", help="NAME or NAMESPACE/NAME (default: every platform)"
    )
    resync.set_defaults(handler=run_resync)
    rollback = command(
        "rollback",
        "roll a component back (to its last good revision unless --to) and quarantine the "
        "chart version rolled back from",
    )
    rollback.add_argument("platform", help="NAME or NAMESPACE/NAME")
    rollback.add_argument("component", choices=COMPONENTS)
    rollback.add_argument("--to", type=int, dest="revision", help="the revision to return to")
    rollback.set_defaults(handler=run_rollback)
    uninstall = command("uninstall", "remove every release a platform owns, then the platform")
    uninstall.add_argument("platform", help="NAME or NAMESPACE/NAME")
    uninstall.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="do not ask for confirmation (needed without a terminal)",
    )
    uninstall.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be removed, and remove nothing",
    )
    uninstall.set_defaults(handler=run_uninstall)
    lift = command(
        "unquarantine",
        "let reconcile apply a quarantined chart version (or values) again",
        fleet="--fleet is required",
    )
    lift.add_argument("platform", help="NAME or NAMESPACE/NAME")
    lift.add_argument("component", choices=COMPONENTS)
    lift.add_argument(
        "version",
        help="the chart version (lifts it, and any values of it held), or the digest of "
        "quarantined values as gunj status shows it",
    )
    lift.add_argument(
        "--fleet",
        action="store_true",
        help="lift it on every cluster: the fleet-wide quarantine, and every platform's own "
        "hold of it on each registered cluster that can be reached",
    )
    lift.set_defaults(handler=run_unquarantine)


# --- the commands ------------------------------------------------------------------------------


def run_apply(arguments: argparse.Namespace) -> int:
    text = read_text(arguments.file, "apply")
    if text is None:
        return PERMANENT
    try:
        platform = load_platform(text)
    except InvalidPlatform as error:
        print(f"{shown(arguments.file)}: invalid, nothing was changed", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return PERMANENT
    engine = _reconciler(arguments.cluster)
    if engine is None:
        return PERMANENT
    name = "-" if is_stdin(arguments.file) else arguments.file.name
    request = Request(source=f"gunj apply {name}", progress=_Progress())
    return _report(engine.apply(platform, request), arguments.output)


def run_status(arguments: argparse.Namespace) -> int:
    if arguments.cluster is None:
        return fleet.run_fleet_status(arguments)
    engine = _reconciler(arguments.cluster)
    if engine is None:
        return 1
    namespace, name = _split(arguments.platform) if arguments.platform else (None, None)
    platforms = [p for p in _platforms(engine, namespace) if name is None or p.name == name]
    if arguments.live:
        parts = engine.scoped()
        try:
            platforms = [
                _looked_at(engine.in_namespace(p.namespace).scoped(), p) for p in platforms
            ]
        except GunjError as error:  # scrubbed as an apply's outcome is: the look read the same
            print(f"gunj status: {parts.redactor(str(error))}", file=sys.stderr)
            return 3 if error.transient else 1
    if arguments.platform and not platforms:
        print(
            f"gunj status: no platform {arguments.platform} in {arguments.cluster}", file=sys.stderr
        )
        return 1
    if arguments.output != "table":
        emit([_status_json(p) for p in platforms], arguments.output)
        return 0
    if not platforms:
        print(f"no platforms in {arguments.cluster}")
    for index, platform in enumerate(platforms):
        if index:
            print()
        print_status(platform)
    return 0


def run_resync(arguments: argparse.Namespace) -> int:
    engine = _reconciler(arguments.cluster)
    if engine is None:
        return 1
    if arguments.platform:
        found = _find(engine, arguments.platform)
        if found is None:
            return 1
        targets = [found]
    else:
        targets = _platforms(engine, None)
    codes = [
        _report(
            engine.resync(p.namespace, p.name, Request(source="gunj resync", progress=_Progress())),
            arguments.output,
        )
        for p in targets
    ]
    if not targets:
        print(f"no platforms in {arguments.cluster}")
    return 3 if 3 in codes else max(codes, default=0)


def run_rollback(arguments: argparse.Namespace) -> int:
    return _on_platform(
        arguments,
        lambda engine, target: engine.rollback(
            target.namespace,
            target.name,
            arguments.component,
            to_revision=arguments.revision,
            request=Request(progress=_Progress()),
        ),
    )


def run_uninstall(arguments: argparse.Namespace) -> int:
    """Find the platform first (so the question names what would go), then ask on a terminal
    unless ``--yes``; without a terminal and without ``--yes``, refuse: nothing answers."""
    engine = _reconciler(arguments.cluster)
    target = _find(engine, arguments.platform) if engine else None
    if engine is None or target is None:
        return PERMANENT
    removed = removal(target)
    if arguments.dry_run:
        _print_removal(target, removed, arguments.cluster, arguments.output)
        return DONE
    if not arguments.yes:
        answer = _confirm(target, removed, arguments.cluster)
        if answer is not True:
            return answer
    outcome = engine.uninstall(target.namespace, target.name, Request(progress=_Progress()))
    return _report(outcome, arguments.output)


def removal(platform: StoredPlatform) -> list[dict[str, str]]:
    """What uninstalling ``platform`` removes, as its status records it: each component's
    release (chart and revision), then the platform object itself."""
    from ..values.plan import plan_platform

    try:
        releases = {p.component: p.release for p in plan_platform(platform_of(platform))}
    except (GunjError, ValueError):  # a stored spec that no longer loads: no release names
        releases = {}
    return [
        {
            "component": name,
            "release": releases.get(name, "-"),
            "mode": component.mode,
            "chart": f"{component.chart or '-'} {component.chart_version or ''}".strip(),
            "revision": str(component.revision or "-"),
        }
        for name, component in platform.status.components.items()
    ]


def _print_removal(
    platform: StoredPlatform, removed: list[dict[str, str]], cluster: str, output: str
) -> None:
    where = f"{platform.namespace}/{platform.name}"
    if output != "table":
        emit({"platform": where, "cluster": cluster, "dryRun": True, "remove": removed}, output)
        return
    print(f"would remove from {cluster} (dry run: nothing was changed):")
    if removed:
        rows = [("COMPONENT", "RELEASE", "MODE", "CHART", "REVISION")]
        rows += [
            (r["component"], r["release"], r["mode"], r["chart"], r["revision"]) for r in removed
        ]
        print_table(rows, indent="  ")
    else:
        print("  no release recorded in its status")
    print(f"  then the platform {where}")


def _confirm(platform: StoredPlatform, removed: list[dict[str, str]], cluster: str) -> int | bool:
    """True when a person at the terminal said yes; otherwise the exit code."""
    where = f"{platform.namespace}/{platform.name}"
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        print(
            f"gunj uninstall: not removing {where} from {cluster}: there is no terminal to "
            "ask for confirmation; give --yes to remove it (--dry-run lists what would go)",
            file=sys.stderr,
        )
        return PERMANENT
    releases = ", ".join(r["release"] for r in removed) or "no recorded release"
    print(
        f"remove {where} from {cluster} with its releases ({releases})? [y/N] ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    answer = sys.stdin.readline().strip().lower()
    if answer in {"y", "yes"}:
        return True
    print("gunj uninstall: not confirmed; nothing was removed", file=sys.stderr)
    return PERMANENT


def run_unquarantine(arguments: argparse.Namespace) -> int:
    if arguments.fleet:
        return fleet.run_fleet_unquarantine(arguments)
    if arguments.cluster is None:
        print(
            "gunj unquarantine: give --cluster, or --fleet to lift it on every cluster",
            file=sys.stderr,
        )
        return USAGE
    code = _on_platform(
        arguments,
        lambda engine, target: engine.unquarantine(
            target.namespace, target.name, arguments.component, arguments.version
        ),
    )
    if note := fleet.still_held_note(arguments.component, arguments.version):
        print(f"gunj unquarantine: {note}", file=sys.stderr)
    return code


def _on_platform(
    arguments: argparse.Namespace, operation: Callable[[Reconciler, StoredPlatform], Outcome]
) -> int:
    """Run ``operation`` on the platform the arguments name, in the cluster they name."""
    engine = _reconciler(arguments.cluster)
    target = _find(engine, arguments.platform) if engine else None
    if engine is None or target is None:
        return 1
    return _report(operation(engine, target), arguments.output)


# --- helpers -----------------------------------------------------------------------------------


class _Progress:
    """Prints each step with the time since the command started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, component: str, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {component}: {message}", file=sys.stderr, flush=True)


def _reconciler(cluster: str) -> Reconciler | None:
    try:
        return reconciler(cluster)
    except (UnknownCluster, RegistryError) as error:
        print(f"gunj: {error}", file=sys.stderr)
        return None


def _platforms(engine: Reconciler, namespace: str | None) -> list[StoredPlatform]:
    """The cluster's platforms. This read comes before the engine's own guard, so a cluster out
    of reach is turned into gunj's error here: one line naming the cluster, exit 3 (run it
    again later) for an API server that cannot be reached, 1 for one that refuses."""
    try:
        return list_platforms(engine.access, namespace)
    except ApiError as error:
        raise error.doing(f"listing the platforms of cluster {engine.cluster!r}") from None


def _split(platform: str) -> tuple[str | None, str]:
    namespace, _, name = platform.rpartition("/")
    return namespace or None, name


def _find(engine: Reconciler, platform: str) -> StoredPlatform | None:
    namespace, name = _split(platform)
    found = [p for p in _platforms(engine, namespace) if p.name == name]
    if len(found) == 1:
        return found[0]
    if not found:
        print(f"gunj: no platform {platform} in {engine.cluster}", file=sys.stderr)
    else:
        where = ", ".join(f"{p.namespace}/{p.name}" for p in found)
        print(
            f"gunj: {platform} names several platforms ({where}); give NAMESPACE/NAME",
            file=sys.stderr,
        )
    return None


def _report(outcome: Outcome, output: str) -> int:
    if output != "table":
        emit(outcome.to_json(), output)
        return outcome.exit_code
    print(
        f"{outcome.platform or 'platform'} on {outcome.cluster}: {outcome.result} "
        f"({outcome.message}) in {outcome.duration:.1f}s"
    )
    if outcome.components:
        rows = [("COMPONENT", "STATE", "VERSION", "REVISION", "ACTIONS", "MESSAGE")]
        rows += [
            (
                c.component,
                c.state,
                c.chart_version or "-",
                str(c.revision) if c.revision is not None else "-",
                ", ".join(c.actions) or "-",
                c.message,
            )
            for c in outcome.components
        ]
        print_table(rows)
    if outcome.transient:
        print(
            "transient: nothing is wrong with the spec; run the command again later",
            file=sys.stderr,
        )
    return outcome.exit_code


def _age(since: datetime | None) -> str:
    if since is None:
        return "-"
    seconds = int((datetime.now(UTC) - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _looked_at(parts: EngineParts, platform: StoredPlatform) -> StoredPlatform:
    """``platform`` with the status a reconcile would record if it looked now."""
    judged = judge_now(parts, platform_of(platform), platform)
    now = datetime.now(UTC)
    return replace(platform, status=judged.status.model_copy(update={"observed_at": now}))


def print_status(platform: StoredPlatform) -> None:
    status = platform.status
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    print(
        f"{platform.namespace}/{platform.name}: {status.phase or 'Pending'}"
        f" (generation {platform.generation}, observed {status.observed_generation or '-'};"
        f" looked at {_age(status.observed_at)} ago)"
    )
    if ready is not None and ready.status != "True":
        print(f"  {ready.reason}: {ready.message}")
    if status.acting_as:
        print(f"  acting as {status.acting_as}")
    rows = [
        (
            "COMPONENT",
            "STATE",
            "CHART",
            "VERSION",
            "APP",
            "REVISION",
            "LAST GOOD",
            "VERIFIED",
            "CHANGED",
            "MESSAGE",
        )
    ]
    ordered = sorted(
        status.components.items(),
        key=lambda item: COMPONENTS.index(item[0]) if item[0] in COMPONENTS else len(COMPONENTS),
    )
    for name, component in ordered:
        verified = "-"
        if component.verified_revision == component.revision and component.revision:
            verified = "yes" if component.tested else "FAILED"
        rows.append(
            (
                name,
                component.state or "-",
                component.chart or "-",
                component.chart_version or "-",
                component.app_version or "-",
                str(component.revision or "-"),
                str(component.last_good_revision or "-"),
                verified,
                _age(component.last_changed),
                component.tests if component.state == ComponentState.IN_SYNC else component.message,
            )
        )
    print_table(rows)
    for name, component in ordered:
        for drifted in component.drift:
            where = f" at {', '.join(drifted.paths)}" if drifted.paths else ""
            print(f"  drifted: {name} {drifted.object} {drifted.change}{where}")
        if component.not_ready:
            print(f"  not ready: {name} {component.not_ready}")
        if component.last_corrected is not None:
            print(f"  corrected: {name} {_age(component.last_corrected)} ago")
    for entry in status.quarantined_versions:
        # Values held are named by the digest unquarantine takes.
        what = entry.chart_version
        if entry.digest is not None:
            what += f" values {entry.digest[:SHORT_DIGEST]}"
        print(
            f"  quarantined: {entry.component} {what} since "
            f"{entry.since.isoformat(timespec='seconds')}: {entry.reason}"
            + (f" (incident {entry.incident})" if entry.incident else "")
        )


def _status_json(platform: StoredPlatform) -> dict[str, Any]:
    return {
        "platform": f"{platform.namespace}/{platform.name}",
        "generation": platform.generation,
        "status": platform.status.model_dump(mode="json", by_alias=True, exclude_none=True),
    }

"""``gunj rollout``: a spec change rolled out wave by wave, and the fleet's rollouts (a person's
and the automatic upgrades'): their waves, what each waits for, pause, resume, abort.

``start`` publishes the spec to ``platform-specs`` for the clusters of the first wave only; the
functions start each next wave when every platform of the previous one is Ready at the new spec
and its bake has passed (:mod:`shared.fleet.rollouts`). The rollouts live in the fleet store:
``GUNJ_FLEET_PROJECT`` (with ``FIRESTORE_EMULATOR_HOST`` for the emulator), else the local
stack's, when it runs one."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any

from ..clusters import ClusterRegistry, RegistryError, UnknownCluster
from ..errors import GunjError
from ..fleet import rollouts
from ..fleet.progress import Rollout, Wave, decide
from ..fleet.settings import EMULATOR, PROJECT
from ..fleet.store import Store, configured_store
from ..handlers import topics as names
from .conventions import DONE, PERMANENT, add_output, duration, emit, input_path, read_text
from .table import print_table


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser(
        "rollout", help="roll a spec change out wave by wave; the fleet's rollouts"
    )
    actions = command.add_subparsers(dest="rollout_command", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="roll SPEC out to the clusters, one wave at a time")
    start.add_argument("file", type=input_path, metavar="SPEC", help="the spec (- for stdin)")
    start.add_argument(
        "--clusters",
        help="comma-separated registered clusters the spec goes to (default: every one)",
    )
    start.add_argument(
        "--bake",
        type=duration,
        default=0.0,
        help="how long each wave bakes once its platforms are Ready, before the next starts "
        "(besides each platform's own bakeWindow; default 0)",
    )
    _add_pubsub(start)
    add_output(start)
    start.set_defaults(handler=run_start)
    status = actions.add_parser("status", help="the rollouts, or one, and what it waits for")
    status.add_argument("id", nargs="?", metavar="ID")
    add_output(status)
    status.set_defaults(handler=run_status)
    for action, what in (
        ("pause", "stop starting waves (what is applying goes on)"),
        ("resume", "go on: a paused rollout, or a halted one from the wave it halted in"),
        ("abort", "stop for good: no later wave gets the change"),
    ):
        parser = actions.add_parser(action, help=what)
        parser.add_argument("id", metavar="ID")
        if action == "resume":
            _add_pubsub(parser)
        add_output(parser)
        parser.set_defaults(handler=run_change, action=action)


def _add_pubsub(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        help="publish to this Google Cloud project's topics (the Terraform module's) instead "
        "of the local stack's emulator",
    )
    parser.add_argument(
        "--topic-prefix", default="gunj", help="with --project: the module's name_prefix (gunj)"
    )


def _local_environment() -> dict[str, str]:
    """The running local stack's environment (empty when none runs)."""
    from .stackuse import running

    stack = running()
    return stack.environment() if stack is not None else {}


def store() -> Store:
    """The fleet store: the environment's, else the running local stack's."""
    from .fleet import fleet_environment

    found = configured_store(fleet_environment())
    if found is None:
        raise GunjError(
            f"no fleet store: set {PROJECT} (and {EMULATOR} for the emulator), or run the "
            "local stack (gunj local up)"
        )
    return found


def _publisher(arguments: argparse.Namespace) -> rollouts.Publisher:
    from ..handlers.outcomes import Publisher

    if arguments.project is not None:
        return Publisher(names.Topics(arguments.project, arguments.topic_prefix))
    local = _local_environment()
    if not local:
        raise GunjError("the local stack is not running (gunj local up), and no --project given")
    os.environ["PUBSUB_EMULATOR_HOST"] = local["PUBSUB_EMULATOR_HOST"]
    return Publisher(names.Topics(local["PUBSUB_PROJECT_ID"]))


def run_start(arguments: argparse.Namespace) -> int:
    from ..engine.admission import spec_digest
    from ..values.validation import InvalidPlatform, load_platform

    text = read_text(arguments.file, "rollout start")
    if text is None:
        return PERMANENT
    try:
        platform = load_platform(text)
    except InvalidPlatform as error:
        print(f"gunj rollout start: the spec is invalid: {error}", file=sys.stderr)
        return PERMANENT
    try:
        registry = ClusterRegistry.load()
        wanted = (
            [registry.find(c.strip()).name for c in arguments.clusters.split(",") if c.strip()]
            if arguments.clusters
            else registry.names()
        )
        waves = [
            Wave(wave.name, [c for c in wave.clusters if c in wanted])
            for wave in registry.waves()
            if any(c in wanted for c in wave.clusters)
        ]
    except (RegistryError, UnknownCluster) as error:
        print(f"gunj rollout start: {error}", file=sys.stderr)
        return PERMANENT
    if not waves:
        print("gunj rollout start: no clusters to roll out to (gunj clusters)", file=sys.stderr)
        return PERMANENT
    where = f"{platform.metadata.namespace}/{platform.metadata.name}"
    digest = spec_digest(platform)
    new = Rollout(
        id=rollouts.spec_id(where, digest),
        kind="spec",
        waves=waves,
        spec=text,
        spec_digest=digest,
        platform=where,
        targets={c: [where] for c in wanted},
        bake_seconds=int(arguments.bake),
    )
    fleet = store()
    stored, created = rollouts.create(fleet, new)
    if not created:
        print(
            f"gunj rollout start: rollout {stored.id} of this spec exists already "
            f"({stored.state}; gunj rollout status {stored.id})",
            file=sys.stderr,
        )
        return PERMANENT
    step = rollouts.advance(fleet, stored.id, rollouts.publisher_of_waves(_publisher(arguments)))
    if step.problem:
        print(f"gunj rollout start: {step.problem}", file=sys.stderr)
    _show(fleet, step.rollout, arguments.output)
    return PERMANENT if step.problem else DONE


def run_status(arguments: argparse.Namespace) -> int:
    fleet = store()
    if arguments.id:
        found = rollouts.get(fleet, arguments.id)
        if found is None:
            print(f"gunj rollout status: no rollout {arguments.id!r}", file=sys.stderr)
            return PERMANENT
        _show(fleet, found, arguments.output)
        return DONE
    every = rollouts.list_all(fleet)
    if arguments.output != "table":
        emit({"rollouts": [rollouts.to_json(r) for r in every]}, arguments.output)
        return DONE
    if not every:
        print("no rollouts")
        return DONE
    rows = [("ID", "KIND", "CHANGE", "STATE", "WAVES", "UPDATED")]
    rows += [
        (
            r.id,
            r.kind,
            r.describe(),
            r.state,
            " ".join(f"{w.name}:{w.state}" for w in r.waves),
            _when(r.updated_at),
        )
        for r in every
    ]
    print_table(rows)
    return DONE


def run_change(arguments: argparse.Namespace) -> int:
    fleet = store()
    change = {"pause": rollouts.pause, "resume": rollouts.resume, "abort": rollouts.abort}
    try:
        changed = change[arguments.action](fleet, arguments.id)
    except rollouts.UnknownRollout as error:
        print(f"gunj rollout {arguments.action}: {error}", file=sys.stderr)
        return PERMANENT
    if arguments.action == "resume":
        # The wave it stopped in goes on now, not at the next tick.
        publish = rollouts.publisher_of_waves(_publisher(arguments))
        changed = rollouts.advance(fleet, changed.id, publish).rollout
    _show(fleet, changed, arguments.output)
    return DONE


def _show(fleet: Store, rollout: Rollout, output: str) -> None:
    summaries = rollouts.read_summaries(
        fleet, (m for wave in rollout.waves for m in rollout.members(wave))
    )
    decision = decide(Rollout.from_document(rollout.to_document()), summaries, datetime.now(UTC))
    if output != "table":
        document: dict[str, Any] = rollouts.to_json(rollout)
        document["next"] = {
            "action": decision.action,
            "reason": decision.reason,
            "waiting": list(decision.waiting),
            "bakeUntil": decision.bake_until.isoformat() if decision.bake_until else None,
        }
        emit(document, output)
        return
    print(
        f"rollout {rollout.id}: {rollout.describe()}: {rollout.state} (revision {rollout.revision})"
    )
    if rollout.halted_by:
        print(f"  halted by {rollout.halted_by}")
    rows = [("WAVE", "CLUSTERS", "STATE", "STARTED", "READY", "DONE")]
    rows += [
        (
            w.name,
            ",".join(w.clusters),
            w.state,
            _when(w.started_at),
            _when(w.ready_at),
            _when(w.done_at),
        )
        for w in rollout.waves
    ]
    print_table(rows, indent="  ")
    if rollout.state == "running":
        print(f"  next: {decision.reason}")
        for why in decision.waiting:
            print(f"    - {why}")


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if at else "-"

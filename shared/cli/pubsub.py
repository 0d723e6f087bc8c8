"""``gunj serve``, ``gunj publish`` and ``gunj events``: the functions on the local stack, fed
through the Pub/Sub emulator as Google Cloud feeds them.

``publish --wait`` subscribes to ``platform-events`` before it publishes, then shows the steps
the reconcile takes (read from the platform's status) and every outcome reported for its
message, until a final one arrives. Exit codes as ``gunj apply``: 0 done, 1 a permanent
problem, 3 transient (not finished within ``--timeout``).

With ``--project``, ``publish`` and ``events`` use that project's Pub/Sub (the topics the
Terraform module creates, ``<prefix>-platform-specs`` and ``<prefix>-platform-events``, with the
caller's application default credentials) instead of the local stack's emulator, which is then
not started. Outcomes are read from a subscription the caller names (the module's
``events_subscription``): ``events`` acknowledges what it shows; ``publish --wait`` only the
outcomes of its own message: the others stay leased while it looks (so its pulls reach past a
backlog) and are handed back to the subscription's other readers when it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.outcome import DONE
from ..errors import GunjError
from ..handlers import topics as names
from ..localstack import scheduler, serving
from ..localstack import stack as localstack
from ..values.validation import InvalidPlatform, load_platform
from .conventions import PERMANENT, USAGE, add_output, duration, emit, is_stdin, read_text
from .stackuse import started
from .target import register

# Each call to Pub/Sub (the emulator) is given up after this long.
CALL_SECONDS = 30.0
# As the Terraform module checks project_id and name_prefix.
PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
PREFIX = re.compile(r"[a-z][a-z0-9-]{0,11}")


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve", help="serve the functions on the local stack, fed by the Pub/Sub emulator"
    )
    serve.add_argument(
        "--resync-every",
        type=duration,
        metavar="DURATION",
        help="also tick resync-ticks this often (e.g. 5m), as Cloud Scheduler does: every "
        "platform is reconciled from the spec its cluster holds, and drift corrected",
    )
    serve.set_defaults(handler=run_serve)
    publish = subparsers.add_parser("publish", help="publish a platform spec to platform-specs")
    publish.add_argument("file", type=Path, help="the spec (- for standard input)")
    publish.add_argument("--cluster", required=True, help="the registered target cluster")
    publish.add_argument("--generation", type=int, help="the spec's generation (whole number)")
    publish.add_argument("--delete", action="store_true", help="uninstall the platform instead")
    publish.add_argument("--wait", action="store_true", help="follow the reconcile to its outcome")
    publish.add_argument(
        "--timeout",
        type=duration,
        default=600.0,
        metavar="DURATION",
        help="how long --wait waits (e.g. 10m, 90s; default 10m)",
    )
    add_output(publish)
    _add_project(publish, "with --wait, read outcomes from this subscription of platform-events")
    publish.set_defaults(handler=run_publish)
    events = subparsers.add_parser("events", help="show outcomes published to platform-events")
    events.add_argument(
        "--timeout",
        type=duration,
        default=0.0,
        metavar="DURATION",
        help="stop after this long (e.g. 5m, 90s; default: until Ctrl-C)",
    )
    add_output(events)
    _add_project(events, "the subscription of platform-events to read (required with --project)")
    events.set_defaults(handler=run_events)


def _add_project(parser: argparse.ArgumentParser, subscription_help: str) -> None:
    parser.add_argument(
        "--project",
        help="use this Google Cloud project's Pub/Sub (the Terraform module's topics) instead of "
        "the local stack's emulator",
    )
    parser.add_argument(
        "--topic-prefix",
        default="gunj",
        help="with --project: the module's name_prefix, which starts every topic's name (gunj)",
    )
    parser.add_argument(
        "--subscription",
        metavar="NAME",
        help=f"with --project: {subscription_help} (terraform output events_subscription; a "
        "name or projects/P/subscriptions/NAME)",
    )


@dataclass(frozen=True)
class PubSub:
    """Where specs are published and outcomes read: the emulator's bare topics, or a project's
    ``<prefix>-`` topics. ``subscription`` names an existing subscription of platform-events;
    None follows through a temporary subscription of its own."""

    topics: names.Topics
    subscription: str | None = None

    def subscription_path(self) -> str | None:
        if self.subscription is None or self.subscription.startswith("projects/"):
            return self.subscription
        return f"projects/{self.topics.project}/subscriptions/{self.subscription}"


def emulator(running: localstack.Stack) -> PubSub:
    return PubSub(names.Topics(running.pubsub_project))


def _pubsub(arguments: argparse.Namespace, command: str) -> PubSub | None:
    """The Pub/Sub the arguments name; None (after saying why) when they do not fit."""
    if arguments.project is None:
        if arguments.subscription is not None:
            print(f"gunj {command}: --subscription needs --project", file=sys.stderr)
            return None
        return emulator(_stack(command))
    if not PROJECT_ID.fullmatch(arguments.project):
        print(
            f"gunj {command}: --project {arguments.project!r}: not a project ID (6 to 30 "
            "lower-case letters, digits or hyphens, starting with a letter)",
            file=sys.stderr,
        )
        return None
    if not PREFIX.fullmatch(arguments.topic_prefix):
        print(
            f"gunj {command}: --topic-prefix {arguments.topic_prefix!r}: not a name_prefix (1 to "
            "12 lower-case letters, digits or hyphens, starting with a letter)",
            file=sys.stderr,
        )
        return None
    return PubSub(names.Topics(arguments.project, arguments.topic_prefix), arguments.subscription)


def _stack(command: str) -> localstack.Stack:
    running = started(command)
    os.environ["PUBSUB_EMULATOR_HOST"] = running.pubsub_host
    return running


def run_serve(arguments: argparse.Namespace) -> int:
    every = arguments.resync_every
    if every is not None and every <= 0:
        print("gunj serve: --resync-every: a duration above 0 (e.g. 5m)", file=sys.stderr)
        return USAGE
    running = _stack("serve")
    # The served functions and `gunj publish --cluster local` both find the cluster through
    # the registry; on a machine where `gunj local up` never ran it is not there yet.
    register(running)
    served = serving.serve(running)
    print(
        f"serving on the local stack (Pub/Sub emulator {running.pubsub_host}, "
        f"project {running.pubsub_project}):"
    )
    for function, trigger in names.TRIGGERS.items():
        print(f"  {function:12} {served.endpoint(function)}  <- push from {trigger}")
    token = running.folder / serving.TOKEN_FILE
    print(
        f"  {serving.ALERTMANAGER:12} {served.endpoint(serving.ALERTMANAGER)}  <- Alertmanager's "
        f"webhook (bearer token in {token})"
    )
    if every is not None:
        env = serving.function_environment(running)
        scheduler.start(running.folder, names.RESYNC, every, env)
        print(f"  scheduler    a tick to {names.RESYNC} every {every:g}s")
    print(f"  outcomes -> {names.EVENTS}; reports -> {names.REPORTS}")
    if served.metrics:
        print(f"  metrics      {served.metrics}  <- Prometheus (counted from {names.EVENTS})")
    print("publish with: gunj publish SPEC --cluster local --wait")
    return 0


# Which outcomes a reader keeps (and acknowledges).
Keep = Callable[[dict[str, Any]], bool]
# Acknowledgement IDs per request, well under Pub/Sub's limit on a request's size.
ACK_BATCH = 500


@contextmanager
def _following(pubsub: PubSub) -> Iterator[Callable[[Keep], list[dict[str, Any]]]]:
    """Pulls from platform-events: through a temporary subscription, removed afterwards, where
    what is not kept is dropped; or through the named one, shared with other readers, where it
    stays leased while the pulls go on (so they reach past it, to newer messages) and is handed
    back at the end."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    subscriber = pubsub_v1.SubscriberClient()
    named = pubsub.subscription_path()
    if named is not None:
        leased: list[str] = []
        try:
            yield lambda keep: _pull(subscriber, named, keep, leased)
        finally:
            _hand_back(subscriber, named, leased)
        return
    topics = pubsub.topics
    path = subscriber.subscription_path(topics.project, f"gunj-cli-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(name=path, topic=topics.path(names.EVENTS), timeout=CALL_SECONDS)
    try:
        yield lambda keep: _pull(subscriber, path, keep, None)
    finally:
        subscriber.delete_subscription(subscription=path, timeout=CALL_SECONDS)


def _pull(subscriber: Any, path: str, keep: Keep, leased: list[str] | None) -> list[dict[str, Any]]:
    """The kept documents of one pull, acknowledged; the others dropped, or added to
    ``leased`` when there is one."""
    answer = subscriber.pull(subscription=path, max_messages=50, timeout=2)
    documents, done = [], []
    for item in answer.received_messages:
        try:
            document = json.loads(item.message.data)
        except ValueError:
            document = None
        if isinstance(document, dict) and keep(document):
            documents.append(document)
            done.append(item.ack_id)
        elif leased is not None:
            leased.append(item.ack_id)
        else:
            done.append(item.ack_id)
    if done:
        subscriber.acknowledge(subscription=path, ack_ids=done, timeout=CALL_SECONDS)
    return documents


def _hand_back(subscriber: Any, path: str, leased: list[str]) -> None:
    """Other readers' messages, redelivered now rather than when their lease ends. A lease
    that has ended already is no loss: that message was redelivered then."""
    from google.api_core import exceptions

    for start in range(0, len(leased), ACK_BATCH):
        try:
            subscriber.modify_ack_deadline(
                subscription=path,
                ack_ids=leased[start : start + ACK_BATCH],
                ack_deadline_seconds=0,
                timeout=CALL_SECONDS,
            )
        except exceptions.GoogleAPICallError:
            return


def _everything(document: dict[str, Any]) -> bool:
    return True


def run_publish(arguments: argparse.Namespace) -> int:
    text = read_text(arguments.file, "publish")
    if text is None:
        return PERMANENT
    if arguments.project is not None and arguments.wait and arguments.subscription is None:
        print(
            "gunj publish: --project --wait needs --subscription (terraform output "
            "events_subscription)",
            file=sys.stderr,
        )
        return 2
    pubsub = _pubsub(arguments, "publish")
    if pubsub is None:
        return 2
    name = "-" if is_stdin(arguments.file) else arguments.file.name
    followed = publish(
        pubsub,
        text,
        cluster=arguments.cluster,
        source=f"gunj publish {name}",
        generation=arguments.generation,
        delete=arguments.delete,
        timeout=arguments.timeout if arguments.wait else None,
    )
    if followed.final is not None and arguments.output != "table":
        emit(followed.final, arguments.output)
    return followed.exit_code


def is_final(document: dict[str, Any]) -> bool:
    """Whether an outcome document ends its message's reconcile: any outcome that is not
    transient, as the function itself decides (a transient one is delivered again)."""
    return document.get("transient") is False


@dataclass
class Followed:
    message_id: str
    waited: bool = False
    """Whether the reconcile was followed (``--wait``), not only published."""
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final(self) -> dict[str, Any] | None:
        return next((e for e in self.events if is_final(e)), None)

    @property
    def exit_code(self) -> int:
        """As the outcome's own: 0 done (or only published), 1 a permanent problem, 3 followed
        but nothing final arrived in time."""
        final = self.final
        if final is None:
            return 3 if self.waited else 0
        return 0 if final.get("result") in DONE else 1


def publish(
    pubsub: PubSub,
    text: str,
    *,
    cluster: str,
    source: str,
    generation: int | None = None,
    delete: bool = False,
    timeout: float | None = None,
) -> Followed:
    """Publish a spec to platform-specs; with a timeout, show the reconcile's steps and outcomes
    until a final one arrives (or the time is up)."""
    platform = None
    if not delete:
        try:
            platform = load_platform(text)
        except InvalidPlatform as error:
            # Published anyway: the function reports it too.
            print(
                f"the spec is invalid ({len(error.problems)} problem(s)); the function will "
                "refuse it",
                file=sys.stderr,
            )
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    attributes = {"cluster": cluster, "source": source}
    if generation is not None:
        attributes["generation"] = str(generation)
    if delete:
        attributes["action"] = "delete"
    topic = pubsub.topics.path(names.SPECS)
    started = time.monotonic()

    def send() -> str:
        message_id = (
            pubsub_v1.PublisherClient()
            .publish(topic, text.encode(), **attributes)
            .result(timeout=CALL_SECONDS)
        )
        print(f"published message {message_id} to {topic} for cluster {cluster}", file=sys.stderr)
        return str(message_id)

    if timeout is None:  # nothing to follow: no subscription needed
        return Followed(send())
    # Subscribed before publishing, so no outcome can come before the subscription.
    with _following(pubsub) as pull:
        message_id = send()
        followed = Followed(message_id, waited=True)
        steps = _Steps(cluster, platform)
        while time.monotonic() - started < timeout:
            steps.show(started)
            for document in pull(lambda d: d.get("message_id") == message_id):
                followed.events.append(document)
                _print_event(document, started)
            if followed.final is not None:
                steps.show(started)
                return followed
    print(
        f"no final outcome within {timeout:.0f}s; the function may still be working "
        "(gunj events, gunj status)",
        file=sys.stderr,
    )
    return followed


class _Steps:
    """Prints the platform's new last actions as the function takes them."""

    def __init__(self, cluster: str, platform: Any) -> None:
        self.seen: set[tuple[str, str, str]] = set()
        self.access = None
        self.platform = platform
        if platform is not None:
            from .target import access

            try:
                self.access = access(cluster)
            except GunjError:  # no such cluster here, or not reachable: the function will say so
                self.access = None
        self.first = True

    def show(self, started: float) -> None:
        if self.access is None or self.platform is None:
            return
        from ..engine.resource import read_platform

        try:
            stored = read_platform(
                self.access, self.platform.metadata.namespace, self.platform.metadata.name
            )
        except Exception:  # the cluster may be unreachable for a moment: keep waiting
            return
        if stored is None:
            return
        for action in stored.status.last_actions:
            key = (action.time.isoformat(), action.component, action.action)
            if key in self.seen:
                continue
            self.seen.add(key)
            if not self.first or time.time() - action.time.timestamp() < 120:
                print(
                    f"[{time.monotonic() - started:6.1f}s] {action.component}: "
                    f"{action.action} {action.outcome}: {action.message}",
                    file=sys.stderr,
                )
        self.first = False


def _print_event(document: dict[str, Any], started: float | None = None) -> None:
    when = f"[{time.monotonic() - started:6.1f}s] " if started is not None else ""
    generation = document.get("generation")
    print(
        f"{when}{document.get('function', 'reconcile')} {document.get('platform') or '-'} "
        f"on {document.get('cluster') or '-'}"
        + (f" (generation {generation})" if generation is not None else "")
        + f": {document.get('result')}: {document.get('message')}"
    )
    for component in document.get("components") or []:
        actions = ", ".join(component.get("actions") or []) or "nothing to do"
        print(
            f"    {component.get('component')}: {component.get('state')} "
            f"({component.get('chart_version') or '-'}, revision "
            f"{component.get('revision') or '-'}): {actions}"
        )


def run_events(arguments: argparse.Namespace) -> int:
    if arguments.project is not None and arguments.subscription is None:
        print(
            "gunj events: --project needs --subscription (terraform output events_subscription)",
            file=sys.stderr,
        )
        return 2
    pubsub = _pubsub(arguments, "events")
    if pubsub is None:
        return 2
    started = time.monotonic()
    print(f"following {pubsub.topics.path(names.EVENTS)} (Ctrl-C to stop)", file=sys.stderr)
    with _following(pubsub) as pull:
        try:
            while not arguments.timeout or time.monotonic() - started < arguments.timeout:
                for document in pull(_everything):
                    if arguments.output == "table":
                        _print_event(document)
                    elif arguments.output == "json":  # one document a line, as a stream
                        print(json.dumps(document, default=str))
                    else:
                        print("---")  # a stream of YAML documents
                        emit(document, arguments.output)
                    sys.stdout.flush()
        except KeyboardInterrupt:
            pass
    return 0

"""The ``reconcile`` function: a platform spec published to ``platform-specs`` is applied to the
cluster its ``cluster`` attribute names (``action: delete`` uninstalls it instead).

Message attributes: ``cluster`` (required, a registered name or alias), ``generation`` (1 to 18
ASCII digits; a spec older than the cluster's is ignored), ``source`` (where the spec came from),
``action`` (``apply``, the default; ``delete``; or ``resync``: reconcile from the spec the
cluster holds, the scheduled resync's message, whose data names the platform by its metadata).

A permanent problem (a bad spec, an unknown cluster, an oversized or undecodable message) is
reported and acknowledged; the message is read (:mod:`shared.documents`) before anything else is
done for it, so a document that cannot be read is ``invalid`` whatever the cluster. A transient
one (an unreachable cluster, a busy platform, work left at the deadline) is reported and the
event delivered again. The work stops by ``GUNJ_WORK_SECONDS`` (default 480 s, under Cloud
Functions' 540 s for event functions and Pub/Sub's 600 s push deadline), and the handler waits
for it no longer than that (:func:`.deadline.run_until`); every step is recorded, so the next
delivery resumes.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..documents import DocumentError, load_document
from ..engine.outcome import Outcome, Result
from ..engine.request import Request
from ..errors import GunjError
from ..events.pubsub import InvalidEvent, PubSubMessage, from_cloud_event
from ..values.limits import SPEC_DOCUMENT, text_size_problem
from ..values.spec import ObservabilityPlatform
from ..values.types import DNSLabel
from ..values.validation import InvalidPlatform, load_platform
from .deadline import Overran, run_until, work_deadline, work_seconds
from .fleet import record_summary
from .outcomes import report, request_headers, trace_of, unexpected
from .reconcilers import reconciler
from .rollout_steps import after_outcome

FUNCTION = "reconcile"
ACTIONS = ("apply", "delete", "resync")
# ASCII digits only (str.isdigit() takes "²"), and no more than fit a signed 64-bit number:
# a larger one would be believed newer than every spec after it.
GENERATION = re.compile(r"[0-9]{1,18}")


def handle(event: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Handle one event; return the outcome document (raises Redeliver when transient)."""
    env = os.environ if env is None else env
    started = time.monotonic()
    message: PubSubMessage | None = None
    try:
        message = from_cloud_event(event)
        spec = read(message)
        outcome = run_until(
            work_deadline(env, started),
            lambda: _act(spec, env, started),
            f"the {spec.wanted.action} for cluster {spec.wanted.cluster!r}",
            work_seconds(env),
        )
    except (InvalidEvent, BadMessage) as error:
        outcome = Outcome("invalid", str(error))
    except Overran as error:
        outcome = Outcome("error", str(error), transient_error=True)
    except Exception as error:  # reported and delivered again, never lost without a trace
        outcome = unexpected(error)
    document = {
        **outcome.to_json(),
        "duration": round(time.monotonic() - started, 3),
        "message_id": message.message_id if message else None,
        "source": message.attributes.get("source") if message else None,
        "cluster": outcome.cluster or (message.attributes.get("cluster", "") if message else ""),
    }
    record_summary(document, env)
    report(FUNCTION, document, trace=trace_of(event, request_headers()), env=env)
    # Reached only with a final outcome (a transient one raised): a platform that is now Ready
    # at a rollout's new version may be the last its wave waited for.
    after_outcome(FUNCTION, document, env)
    return document


@dataclass(frozen=True)
class SpecAttributes:
    cluster: str
    action: str
    generation: int | None
    source: str | None


class BadMessage(ValueError):
    """The message cannot be acted on as it is (reported, acknowledged)."""


def attributes_of(message: PubSubMessage) -> SpecAttributes:
    attributes = message.attributes
    cluster = attributes.get("cluster", "").strip()
    if not cluster:
        raise BadMessage("attribute cluster: required (the registered cluster to apply to)")
    action = attributes.get("action", "apply")
    if action not in ACTIONS:
        raise BadMessage(f"attribute action: must be one of {', '.join(ACTIONS)}")
    generation = None
    if "generation" in attributes:
        raw = attributes["generation"].strip()
        if not GENERATION.fullmatch(raw):
            raise BadMessage("attribute generation: must be a whole number of 1 to 18 digits")
        generation = int(raw)
    return SpecAttributes(cluster, action, generation, attributes.get("source"))


@dataclass(frozen=True)
class SpecEvent:
    message: PubSubMessage
    wanted: SpecAttributes
    text: str


def read(message: PubSubMessage) -> SpecEvent:
    """What a spec message asks for; BadMessage (or InvalidEvent) when it cannot be acted on."""
    wanted = attributes_of(message)
    text = message.text()
    if problem := text_size_problem(text):
        raise BadMessage(str(problem))
    return SpecEvent(message, wanted, text)


def _act(event: SpecEvent, env: Mapping[str, str], started: float) -> Outcome:
    message, wanted, text = event.message, event.wanted, event.text
    # The message is read first: a document that cannot be read is invalid wherever it goes,
    # and costs no registry or cluster work.
    wanted_platform = _read_platform(text, wanted)
    if isinstance(wanted_platform, Outcome):
        return wanted_platform
    try:
        engine = reconciler(wanted.cluster, env)
    except GunjError as error:
        result: Result = "error" if error.transient else "refused"
        return Outcome(result, str(error), cluster=wanted.cluster, transient_error=error.transient)
    request = Request(
        generation=wanted.generation,
        message_id=message.message_id,
        source=wanted.source,
        deadline=work_deadline(env, started),
    )
    if isinstance(wanted_platform, ObservabilityPlatform):
        return engine.apply(wanted_platform, request)
    if wanted.action == "resync":
        return engine.resync(*wanted_platform, request)
    return engine.uninstall(*wanted_platform, request)


def _read_platform(
    text: str, wanted: SpecAttributes
) -> ObservabilityPlatform | tuple[str, str] | Outcome:
    """What the message names: the platform to apply, or (delete, resync) the namespace and
    name of one; else the invalid outcome saying why it cannot be read."""
    if wanted.action in {"delete", "resync"}:
        return _named(text)
    try:
        return load_platform(text)
    except InvalidPlatform as error:
        problems = "; ".join(str(problem) for problem in error.problems)
        return Outcome(
            "invalid",
            f"the spec is not valid, nothing was changed: {problems}",
            cluster=wanted.cluster,
            generation=wanted.generation,
        )


def _named(text: str) -> tuple[str, str] | Outcome:
    """Namespace and name of the platform a delete or resync message names (its manifest, or its
    metadata)."""
    try:
        document = load_document(text, SPEC_DOCUMENT)
    except DocumentError as error:
        return Outcome("invalid", f"the message cannot be read: {error}")
    metadata = document.get("metadata") if isinstance(document, dict) else None
    if not isinstance(metadata, dict):
        return Outcome("invalid", "metadata: required (name and namespace of the platform)")
    from pydantic import TypeAdapter, ValidationError

    label: TypeAdapter[str] = TypeAdapter(DNSLabel)
    try:
        return label.validate_python(metadata.get("namespace")), label.validate_python(
            metadata.get("name")
        )
    except ValidationError:
        return Outcome("invalid", "metadata.name and metadata.namespace: required DNS labels")

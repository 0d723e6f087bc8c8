"""Applying a spec: found in sync by the lock-free look, or under the platform's Lease admitted
(:mod:`.admission`) and checked for size before anything is written, the
``ObservabilityPlatform`` object created or updated, every component reconciled in order
(:mod:`.passes`), and the final status written only if it changed."""

from __future__ import annotations

from dataclasses import replace

from ..kube.events import ObjectRef
from ..kube.lease import Lease
from ..values.plan import plan_platform
from ..values.spec import ObservabilityPlatform
from ..values.spec.platform import API_VERSION, KIND
from ..values.spec.status import HandledMessage
from .admission import Refusal, admit, oversized, spec_changed, spec_digest
from .errors import Deferred
from .look import look
from .loop import ComponentRun
from .outcome import Outcome
from .parts import EngineParts
from .passes import run_components
from .record import Recorder
from .report import RESULT_MESSAGES, report, result_of
from .request import Request
from .resource import StoredPlatform, apply_platform, platform_of, read_platform, write_observed
from .session import context_for, platform_lease, recorder_for
from .wanted import desired_for, wanted_components

HANDLED_MESSAGES = 20


def reconcile(parts: EngineParts, platform: ObservabilityPlatform, request: Request) -> Outcome:
    """Make the cluster match ``platform``: found in sync without the Lease (:mod:`.look`), or
    applied under it. A spec whose platform another reconcile holds is stored as the desired
    state at once (level-triggered: that reconcile, or the next resync, applies it, even if its
    message is never delivered again); one stored while this reconcile worked is applied
    before the Lease is released."""
    namespace, name = platform.metadata.namespace, platform.metadata.name
    found = look(parts, platform, request)
    if found is not None:
        if request.resync and found.result not in {"duplicate", "stale", "refused"}:
            write_observed(parts.access, namespace, name, parts.clock())
        return found
    try:
        with platform_lease(parts, namespace, name) as lease:
            outcome, generation = apply_spec(parts, platform, request, lease)
            if outcome.transient:
                return outcome
            stored = read_platform(parts.access, namespace, name)
            if stored is None or stored.generation <= generation:
                return outcome
            later = replace(request, generation=None, message_id=None, source=None)
            return apply_spec(parts, platform_of(stored), later, lease)[0]
    except Deferred as busy:
        if store_desired(parts, platform, request):
            raise Deferred(
                f"{busy}; the spec is stored as the platform's desired state, and the running "
                "reconcile or the next resync applies it"
            ) from None
        raise


def apply_spec(
    parts: EngineParts, platform: ObservabilityPlatform, request: Request, lease: Lease
) -> tuple[Outcome, int]:
    """Make the cluster match ``platform``; the caller holds its Lease. The outcome, and the
    generation of the platform object it found or wrote (0: none)."""
    namespace, name = platform.metadata.namespace, platform.metadata.name
    generation = request.generation
    stored = read_platform(parts.access, namespace, name)
    refusal = admit(
        platform,
        stored,
        generation=generation,
        message_id=request.message_id,
        allow_templates=parts.allow_templates,
        secrets=parts.secret_manager.refusal,
    )
    changed = stored is None or spec_changed(stored, platform, generation)
    if refusal is None and changed:
        # Before anything is written: an object the API server would refuse for its size.
        refusal = oversized(plan_platform(platform), lambda plan: desired_for(parts, plan))
    if refusal is not None:
        return _refused(parts, refusal, stored, generation), stored.generation if stored else 0
    if stored is None or changed:
        # A spec without a generation (a person's `gunj apply`) keeps the one the cluster
        # has: dropping it would let an older Pub/Sub generation through afterwards.
        known = stored.published_generation if stored is not None else None
        stored = apply_platform(
            parts.access,
            platform,
            generation=generation if generation is not None else known,
            source=request.source,
        )
    recorder = recorder_for(parts, stored, paused=platform.spec.paused, lease=lease)
    if platform.spec.paused:
        recorder.persist(working=False)
        paused = report(
            parts.redactor, "paused", "the spec says paused", platform=stored, generation=generation
        )
        return paused, stored.generation
    ctx = context_for(parts, namespace, name, request, lease)
    wanted = wanted_components(parts, recorder, platform, stored, archives=request.resync)
    runs = run_components(ctx, recorder, wanted)
    digest = spec_digest(platform)
    return _finish(parts, recorder, stored, runs, request=request, digest=digest), stored.generation


def store_desired(parts: EngineParts, platform: ObservabilityPlatform, request: Request) -> bool:
    """Store ``platform`` as the platform's desired state, without reconciling it (another
    reconcile holds the Lease): only a spec that is admitted, changed and fits. True when
    stored."""
    stored = read_platform(parts.access, platform.metadata.namespace, platform.metadata.name)
    admitted = admit(
        platform,
        stored,
        generation=request.generation,
        message_id=request.message_id,
        allow_templates=parts.allow_templates,
        secrets=parts.secret_manager.refusal,
    )
    if admitted is not None or (
        stored is not None and not spec_changed(stored, platform, request.generation)
    ):
        return False
    if oversized(plan_platform(platform), lambda plan: desired_for(parts, plan)) is not None:
        return False
    known = stored.published_generation if stored is not None else None
    apply_platform(
        parts.access,
        platform,
        generation=request.generation if request.generation is not None else known,
        source=request.source,
    )
    return True


def _refused(
    parts: EngineParts, refusal: Refusal, stored: StoredPlatform | None, generation: int | None
) -> Outcome:
    if stored is None:
        return Outcome(refusal.result, parts.redactor(refusal.message), generation=generation)
    if refusal.result == "refused":
        parts.events.emit(
            ObjectRef(API_VERSION, KIND, stored.namespace, stored.name, stored.uid),
            "Warning",
            "Refused",
            refusal.message,
        )
    return report(
        parts.redactor, refusal.result, refusal.message, platform=stored, generation=generation
    )


def _finish(
    parts: EngineParts,
    recorder: Recorder,
    stored: StoredPlatform,
    runs: list[ComponentRun],
    *,
    request: Request,
    digest: str,
) -> Outcome:
    generation, message_id = request.generation, request.message_id
    result = result_of(runs)
    status = recorder.status.model_copy(
        update={"observed_generation": stored.generation, "observed_at": parts.clock()}
    )
    if message_id and result not in {"deferred", "progressing"}:
        handled = HandledMessage.model_validate(
            {"messageId": message_id, "digest": digest, "time": parts.clock()}
        )
        kept = [m for m in status.handled_messages if m.message_id != message_id]
        status = status.model_copy(
            update={"handled_messages": [*kept, handled][-HANDLED_MESSAGES:]}
        )
    recorder.status = status
    recorder.persist(working=False, only_if_changed=stored.status)
    return report(
        parts.redactor,
        result,
        RESULT_MESSAGES[result],
        platform=stored,
        generation=generation,
        runs=runs,
        status=recorder.status,
    )

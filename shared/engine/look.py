"""The lock-free look: whether a platform is as its spec says and its status already says so,
found without the Lease and without writing anything, so an unchanged spec costs a read of the
platform, one list of the namespace's releases per mode, and no Helm process. Anything that
needs doing or writing is left to the reconcile under the Lease, which looks again."""

from __future__ import annotations

from dataclasses import dataclass

from ..values.spec import ObservabilityPlatform
from ..values.spec.status import PlatformStatus
from .admission import admit, spec_changed
from .conditions import summarize
from .loop import ComponentRun
from .outcome import Outcome
from .parts import EngineParts
from .report import RESULT_MESSAGES, report, result_of
from .request import Request
from .resource import StoredPlatform, read_platform
from .session import recorder_for
from .wanted import Reads, start_reads, wanted_components


def look(parts: EngineParts, platform: ObservabilityPlatform, request: Request) -> Outcome | None:
    """The outcome, when nothing needs doing or writing (ready, or held, stalled or failed
    until the spec changes or a person acts), or when the spec is not admitted; else None."""
    namespace, name = platform.metadata.namespace, platform.metadata.name
    reads = start_reads(parts, namespace)
    stored = read_platform(parts.access, namespace, name, cached=True)
    refusal = admit(
        platform,
        stored,
        generation=request.generation,
        message_id=request.message_id,
        allow_templates=parts.allow_templates,
        secrets=parts.secret_manager.refusal,
    )
    if refusal is not None and refusal.result == "duplicate" and stored is not None:
        return report(
            parts.redactor,
            "duplicate",
            refusal.message,
            platform=stored,
            generation=request.generation,
        )
    if (
        stored is None
        or refusal is not None
        or platform.spec.paused
        or spec_changed(stored, platform, request.generation)
    ):
        return None
    judged = judge_now(parts, platform, stored, reads, archives=request.resync)
    if judged.acting or judged.status != stored.status:
        return None
    result = result_of(judged.runs)
    return report(
        parts.redactor,
        result,
        RESULT_MESSAGES[result],
        platform=stored,
        generation=request.generation,
        runs=judged.runs,
        status=judged.status,
    )


@dataclass(frozen=True)
class Judgement:
    """A platform as a reconcile would find it now, before it acts."""

    status: PlatformStatus
    """The status it would record (with no action taken)."""
    runs: list[ComponentRun]
    acting: bool
    """A component needs an action (its state in ``status`` says the first one is due)."""


def judge_now(
    parts: EngineParts,
    platform: ObservabilityPlatform,
    stored: StoredPlatform,
    reads: Reads | None = None,
    *,
    archives: bool = False,
) -> Judgement:
    """Judge every component of ``platform`` now, its releases and live objects included, and
    the status that says so, writing nothing and sending no Event (``gunj status --live``,
    and the look)."""
    recorder = recorder_for(parts, stored, paused=False, silent=True)
    runs, acting = [], False
    for want in wanted_components(
        parts, recorder, platform, stored, reads=reads, archives=archives
    ):
        record = recorder.component(want.component)
        _, decision = want.judge(
            want.first, record, platform=stored.name, now=parts.clock(), live=want.live
        )
        acting = acting or decision.action is not None
        if want.after is None:
            recorder.observed(
                want.component,
                want.desired,
                want.first,
                decision,
                mode=want.backend.mode,
                live=want.live,
            )
        runs.append(ComponentRun(want.component, decision.outcome, decision.reason))
    status = summarize(
        recorder.status.model_copy(update={"observed_generation": stored.generation}),
        now=parts.clock(),
        generation=stored.generation,
        paused=platform.spec.paused,
        working=False,
    )
    return Judgement(status, runs, acting)

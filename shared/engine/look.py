"""The lock-free look: whether a platform is as its spec says and its status already says so,
found without the Lease and without writing anything, so an unchanged spec costs a read of the
platform, one list of the namespace's releases per mode, and no Helm process. Anything that
needs doing or writing is left to the reconcile under the Lease, which looks again."""

from __future__ import annotations

from ..values.spec import ObservabilityPlatform
from .admission import admit, spec_changed
from .conditions import summarize
from .loop import ComponentRun
from .outcome import Outcome
from .parts import EngineParts
from .report import RESULT_MESSAGES, report, result_of
from .request import Request
from .resource import read_platform
from .session import recorder_for
from .wanted import wanted_components


def look(parts: EngineParts, platform: ObservabilityPlatform, request: Request) -> Outcome | None:
    """The outcome, when nothing needs doing or writing (ready, or held, stalled or failed
    until the spec changes or a person acts), or when the spec is not admitted; else None."""
    namespace, name = platform.metadata.namespace, platform.metadata.name
    stored = read_platform(parts.access, namespace, name)
    refusal = admit(
        platform,
        stored,
        generation=request.generation,
        message_id=request.message_id,
        allow_templates=parts.allow_templates,
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
    # Silent: when something needs doing, the reconcile under the Lease looks again and says
    # what it finds.
    recorder = recorder_for(parts, stored, paused=False, silent=True)
    runs = []
    for want in wanted_components(parts, recorder, platform, stored):
        record = recorder.component(want.component)
        _, decision = want.judge(want.first, record, platform=name, now=parts.clock())
        if decision.action is not None:
            return None
        recorder.observed(
            want.component, want.desired, want.first, decision, mode=want.backend.mode
        )
        runs.append(ComponentRun(want.component, decision.outcome, decision.reason))
    status = summarize(
        recorder.status.model_copy(update={"observed_generation": stored.generation}),
        now=parts.clock(),
        generation=stored.generation,
        paused=False,
        working=False,
    )
    if status != stored.status:
        return None
    result = result_of(runs)
    return report(
        parts.redactor,
        result,
        RESULT_MESSAGES[result],
        platform=stored,
        generation=request.generation,
        runs=runs,
        status=status,
    )

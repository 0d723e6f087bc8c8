"""Work on one platform under its Lease: the Lease itself, the status recorder and the context
every step works with, and :func:`on_platform`, which runs a piece of work (an uninstall, a
rollback, an alert's judgement, lifting a quarantine, recording an upgrade check) on a platform
that exists, with every failure turned into an outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from ..clusters.tenancy import OWN_CREDENTIALS
from ..kube.events import ObjectRef
from ..kube.lease import Lease
from ..values.spec.platform import API_VERSION, KIND
from ..values.spec.status import PlatformStatus
from .context import EngineContext
from .errors import Deferred, NotFound
from .guard import guarded
from .holder import is_gunj_holder, reconcile_holder
from .loop import ComponentRun
from .outcome import Outcome, Result
from .parts import EngineParts
from .record import Recorder
from .report import report
from .request import Request
from .resource import StoredPlatform, read_platform, write_status

log = logging.getLogger(__name__)


@contextmanager
def platform_lease(
    parts: EngineParts, namespace: str, name: str, until: float | None = None
) -> Iterator[Lease]:
    """Hold the platform's Lease (``gunj-<name>``) while the block runs, until ``until`` (the
    work's deadline, on the ``time.monotonic()`` clock) at most; Deferred when another holds
    it, saying who, and why it is doubted if it is (:mod:`..kube.lease`)."""
    settings = parts.settings
    lease = Lease(
        parts.access,
        namespace,
        f"gunj-{name}",
        reconcile_holder(parts.identity),
        timedelta(seconds=settings.lease_seconds),
        max_duration=timedelta(seconds=settings.lease_max_seconds),
        recognised=is_gunj_holder,
        until=until,
    )
    held = lease.acquire()
    if held is not None:
        raise Deferred(f"platform {namespace}/{name} is being reconciled by {held.describe()}")
    if lease.overridden is not None:
        log.warning(
            "took the Lease of %s/%s over from %s",
            namespace,
            name,
            lease.overridden.describe(),
        )
    try:
        yield lease
    finally:
        lease.release()


def recorder_for(
    parts: EngineParts,
    stored: StoredPlatform,
    *,
    paused: bool,
    lease: Lease | None = None,
    silent: bool = False,
) -> Recorder:
    """The status record of ``stored`` for one reconcile (``silent``: no Events, for a look
    that writes nothing: the lock-free one, or a plan). With a Lease, nothing is written once
    it is lost."""

    def persist(status: PlatformStatus) -> None:
        if lease is not None and lease.lost.is_set():
            raise Deferred("lost the platform's Lease; its status is left to the holder")
        write_status(parts.access, stored.namespace, stored.name, status)

    acting_as = parts.access.acting_as or OWN_CREDENTIALS
    status = stored.status
    if status.acting_as != acting_as:
        status = status.model_copy(update={"acting_as": acting_as})
    return Recorder(
        status,
        about=ObjectRef(API_VERSION, KIND, stored.namespace, stored.name, stored.uid),
        events=parts.events,
        redactor=parts.redactor,
        persist=persist,
        clock=parts.clock,
        generation=stored.generation,
        paused=paused,
        silent=silent,
    )


def context_for(
    parts: EngineParts, namespace: str, name: str, request: Request, lease: Lease | None = None
) -> EngineContext:
    return EngineContext(
        platform=name,
        namespace=namespace,
        helm=parts.helm,
        access=parts.access,
        charts=parts.charts,
        redactor=parts.redactor,
        settings=parts.settings,
        deadline=request.deadline,
        progress=request.progress,
        clock=parts.clock,
        lease=lease,
        live=parts.live,
    )


@dataclass
class Session:
    """A platform that exists, read under its Lease, with what work on it needs."""

    parts: EngineParts
    stored: StoredPlatform
    recorder: Recorder
    ctx: EngineContext

    def outcome(self, result: Result, message: str, runs: Sequence[ComponentRun] = ()) -> Outcome:
        """The outcome of this work, with the status as the recorder has it now."""
        return report(
            self.parts.redactor,
            result,
            message,
            platform=self.stored,
            generation=None,
            runs=runs,
            status=self.recorder.status,
        )


def on_platform(
    parts: EngineParts,
    namespace: str,
    name: str,
    request: Request,
    work: Callable[[Session], Outcome],
    *,
    missing: Outcome | None = None,
) -> Outcome:
    """Run ``work`` on an existing platform, under its Lease; every failure becomes an
    outcome. A platform that does not exist is ``missing`` (NotFound unless given)."""
    started = time.monotonic()

    def existing() -> StoredPlatform | Outcome:
        stored = read_platform(parts.access, namespace, name)
        if stored is not None:
            return stored
        if missing is not None:
            return missing
        raise NotFound(f"platform {namespace}/{name} does not exist in {parts.cluster}")

    def under_lease() -> Outcome:
        # Looked for before a Lease is taken for a platform that is not there, and read again
        # under it: a reconcile that held it may have written status since, and this work
        # replaces the whole status.
        if isinstance(found := existing(), Outcome):
            return found
        with platform_lease(parts, namespace, name, request.deadline) as lease:
            stored = existing()
            if isinstance(stored, Outcome):
                return stored
            recorder = recorder_for(parts, stored, paused=False, lease=lease)
            ctx = context_for(parts, namespace, name, request, lease)
            return work(Session(parts, stored, recorder, ctx))

    return guarded(parts, f"{namespace}/{name}", request.generation, started, under_lease)

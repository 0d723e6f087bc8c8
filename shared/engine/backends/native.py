"""Releases made by gunj itself (native mode): the component rendered as plain objects
(:mod:`shared.native.render`), applied by server-side apply, what it no longer renders pruned,
its workloads waited for, and the applied set recorded as a revision in Helm's storage format
(:mod:`shared.native.store`), so classification, verification, remediation and rollback work
the same as with Helm.

A revision is written pending (with the deadline of its operation, as Helm's are) before its
objects are applied; then deployed, or failed when an object is refused or the workloads are
not ready in time. When the API server fails mid-way, the pending revision is removed again and
the transient error raised: a pending revision says an operation may still run, so one that
has stopped never leaves it behind (the component would read as locked until the deadline).
A rollback applies an earlier revision's recorded objects as a new revision.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from ... import yamlio
from ...errors import GunjError
from ...helm.process import latest_end
from ...helm.releases import ReleaseStore
from ...kube.errors import ApiError, ApiUnavailable
from ...labels import (
    COMPONENT_LABEL,
    DEADLINE_LABEL,
    NAMESPACE_LABEL,
    NATIVE_LABEL,
    PLATFORM_LABEL,
)
from ...native.apply import (
    apply_objects,
    delete_objects,
    owned,
    prune,
)
from ...native.render import RenderError, render
from ...native.store import NativeStore
from ..errors import NativeTimeout
from ..verification.watch import ReleaseWatch
from ..verification.workloads import wait_ready, workloads_of
from . import Change

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..context import EngineContext
    from ..desired import DesiredRelease


class NativeRenderError(GunjError):
    """The component's values cannot be rendered as native objects (names the values path)."""


@dataclass(frozen=True)
class Revision:
    """What one native revision holds."""

    release: str
    component: str
    chart: dict[str, str]
    values: dict[str, Any] = field(repr=False)
    objects: list[dict[str, Any]] = field(repr=False)
    description: str


@dataclass
class NativeBackend:
    store: ReleaseStore
    writer: NativeStore
    helm: ReleaseStore
    """Helm's releases: while the component's Helm form still stands (a switch), its objects
    are left to it and taken over once it is gone (:meth:`take_over`)."""
    mode: Literal["native"] = "native"

    def change(self, ctx: EngineContext, desired: DesiredRelease, change: Change) -> None:
        revision = rendered(ctx, desired, change.description)
        self._deploy(ctx, revision, change.labels, change.timeout, f"pending-{change.verb}")

    def rollback(
        self, ctx: EngineContext, release: str, revision: int, timeout: timedelta, no_hooks: bool
    ) -> None:
        stored = next(
            (r for r in self.store.revisions(release, ctx.namespace) if r.revision == revision),
            None,
        )
        if stored is None:
            raise GunjError(f"revision {revision} of {release} is not stored any more")
        payload = stored.decode()
        earlier = Revision(
            release=release,
            component=str(stored.labels.get(COMPONENT_LABEL, "")),
            chart=dict((payload.get("chart") or {}).get("metadata") or {}),
            values=dict(payload.get("config") or {}),
            objects=[o for o in yamlio.safe_load_all(payload.get("manifest") or "") if o],
            description=f"Rollback to {revision}",
        )
        self._deploy(ctx, earlier, dict(stored.labels), timeout, "pending-rollback")

    def uninstall(
        self, ctx: EngineContext, release: str, timeout: timedelta, no_hooks: bool
    ) -> None:
        history = self.store.revisions(release, ctx.namespace)
        component = next((r.labels.get(COMPONENT_LABEL) for r in reversed(history)), None)
        if component:
            delete_objects(ctx.access, owned(ctx.access, ctx.namespace, ctx.platform, component))
        self.writer.delete_all(release, ctx.namespace)

    def take_over(self, ctx: EngineContext, release: str) -> None:
        """Apply the deployed revision's objects again, the ones the Helm form held too."""
        deployed = next(
            (
                r
                for r in reversed(self.store.revisions(release, ctx.namespace))
                if r.status.value == "deployed"
            ),
            None,
        )
        if deployed is not None:
            manifest = deployed.decode().get("manifest") or ""
            apply_objects(ctx.access, [o for o in yamlio.safe_load_all(manifest) if o])

    def _deploy(
        self,
        ctx: EngineContext,
        revision: Revision,
        labels: dict[str, str],
        timeout: timedelta,
        pending: str,
    ) -> None:
        history = self.store.revisions(revision.release, ctx.namespace)
        number = (history[-1].revision if history else 0) + 1
        previous = [r.revision for r in history if r.status.value == "deployed"]
        stamped = {**labels, DEADLINE_LABEL: str(latest_end(timeout))}
        try:
            self._record(ctx, revision, number, pending, stamped)
            # The component's Helm form, if gunj made one, is being switched from: its
            # objects are left to it until it is gone. Any other Helm owner is refused.
            switching = any(
                r.labels.get(PLATFORM_LABEL) == ctx.platform
                for r in self.helm.revisions(revision.release, ctx.namespace)
            )
            applied = apply_objects(
                ctx.access, revision.objects, leave_to=revision.release if switching else None
            )
            prune(ctx.access, ctx.namespace, ctx.platform, revision.component, applied)
            found = workloads_of(revision.objects, ctx.namespace)
            watch = ReleaseWatch.of(ctx.access, ctx.namespace, revision.objects)
            ready, message = wait_ready(ctx.access, found, timeout.total_seconds(), watch)
            if not ready:
                raise NativeTimeout(f"{revision.component}: {message} after {timeout}")
            self._record(ctx, revision, number, "deployed", labels)
        except GunjError as error:
            self._end(ctx, revision, number, labels, error)
            raise
        except Exception as error:
            # A fault of gunj's own: its text is no description for a person.
            self._fail(ctx, revision, number, labels, f"failed ({type(error).__name__})")
            raise
        try:
            for earlier in previous:
                self.writer.set_status(revision.release, ctx.namespace, earlier, "superseded")
            self.writer.trim(revision.release, ctx.namespace)
        except ApiError as error:
            raise error.doing(f"recording revision {number} of {revision.release}") from None

    def _end(
        self,
        ctx: EngineContext,
        revision: Revision,
        number: int,
        labels: dict[str, str],
        error: GunjError,
    ) -> None:
        """End revision ``number`` after ``error``. The API server failing (unreachable,
        overloaded) is no failure of the revision, and should not spend the component's
        retries: the revision is removed again, and the transient error brings the next
        reconcile back, which finds the last revision still holding the previous objects and
        applies the new ones anew. Anything else fails the revision."""
        if isinstance(error, ApiUnavailable):
            with contextlib.suppress(ApiError):  # the pending revision's deadline releases it
                self.writer.delete(revision.release, ctx.namespace, number)
        else:
            self._fail(ctx, revision, number, labels, str(error))

    def _fail(
        self,
        ctx: EngineContext,
        revision: Revision,
        number: int,
        labels: dict[str, str],
        why: str,
    ) -> None:
        """Record revision ``number`` failed, and why. Best effort: when the API server cannot
        take even that, the pending revision's deadline releases it."""
        failed = replace(revision, description=f"{revision.description}: {why}")
        with contextlib.suppress(ApiError):  # the pending revision's deadline releases it
            self._record(ctx, failed, number, "failed", labels)

    def _record(
        self,
        ctx: EngineContext,
        revision: Revision,
        number: int,
        status: str,
        labels: dict[str, str],
    ) -> None:
        self.writer.write(
            release=revision.release,
            namespace=ctx.namespace,
            revision=number,
            status=status,
            chart=revision.chart,
            values=revision.values,
            objects=revision.objects,
            labels=labels,
            description=revision.description,
        )


def rendered(ctx: EngineContext, desired: DesiredRelease, description: str) -> Revision:
    try:
        objects = _render(ctx, desired)
    except RenderError as error:
        raise NativeRenderError(f"{desired.component}: {error}") from None
    return Revision(
        release=desired.release,
        component=desired.component,
        chart={
            "name": desired.chart,
            "version": desired.version,
            "appVersion": desired.app_version,
        },
        values=dict(desired.values),
        objects=objects,
        description=description,
    )


def _render(ctx: EngineContext, desired: DesiredRelease) -> list[dict[str, Any]]:
    return render_objects(
        ctx.platform,
        desired.component,
        release=desired.release,
        namespace=ctx.namespace,
        values=desired.values,
        app_version=desired.app_version or None,
    )


def render_objects(
    platform: str,
    component: str,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    app_version: str | None,
) -> list[dict[str, Any]]:
    """The objects native mode applies for ``component`` of ``platform``, labelled as gunj
    labels them (``gunj plan --manifests`` shows the same)."""
    return render(
        component,
        release=release,
        namespace=namespace,
        values=values,
        labels={
            PLATFORM_LABEL: platform,
            COMPONENT_LABEL: component,
            NATIVE_LABEL: "true",
            NAMESPACE_LABEL: namespace,
        },
        app_version=app_version,
    )

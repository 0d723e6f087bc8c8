"""Releases made by Helm: the chart pulled into gunj's cache (Helm installs from the local
archive and never sees repository credentials), then ``helm install``, ``upgrade``,
``rollback`` or ``uninstall``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from ...helm.errors import ReleaseNotFound
from ...helm.releases import ReleaseStore
from ...labels import ARCHIVE_LABEL
from ...native.apply import delete_objects, owned
from ..verification.watch import ReleaseWatch, pending_revision
from . import Change

if TYPE_CHECKING:
    from ..context import EngineContext
    from ..desired import DesiredRelease


ARCHIVE_DIGEST = 48
"""The characters of the archive's digest a label holds (a label value holds 63 at most)."""


@dataclass
class HelmBackend:
    store: ReleaseStore
    native: ReleaseStore
    """Native mode's revisions: a component switching from native mode hands its Services
    over (the chart names them alike and would not install beside them)."""
    mode: Literal["helm"] = "helm"

    def change(self, ctx: EngineContext, desired: DesiredRelease, change: Change) -> None:
        run_helm = ctx.require_helm(f"{change.verb} of {desired.release}")
        pulled = ctx.charts.pull(desired.source, desired.version)
        labels = {**change.labels, ARCHIVE_LABEL: pulled.digest[:ARCHIVE_DIGEST]}
        if change.first and self.native.revisions(desired.release, ctx.namespace):
            services = [
                key
                for key in owned(ctx.access, ctx.namespace, ctx.platform, desired.component)
                if key.kind == "Service"
            ]
            delete_objects(ctx.access, services)
        run = run_helm.install if change.first else run_helm.upgrade
        # While Helm waits: a reason the cluster gives that will not change stops it early.
        watch = ReleaseWatch(
            ctx.access,
            ctx.namespace,
            pending_revision(self.store, desired.release, ctx.namespace, change.previous),
        )
        run(
            desired.release,
            pulled.reference(),
            ctx.target,
            values=desired.values,
            timeout=change.timeout,
            wait=True,
            no_hooks=desired.budget.no_hooks,
            labels=labels,
            description=change.description,
            watch=watch,
        )

    def rollback(
        self,
        ctx: EngineContext,
        release: str,
        revision: int,
        timeout: timedelta,
        no_hooks: bool,
    ) -> None:
        ctx.require_helm(f"rollback of {release}").rollback(
            release, revision, ctx.target, timeout=timeout, wait=True, no_hooks=no_hooks
        )

    def uninstall(
        self, ctx: EngineContext, release: str, timeout: timedelta, no_hooks: bool
    ) -> None:
        helm = ctx.require_helm(f"uninstall of {release}")
        with contextlib.suppress(ReleaseNotFound):  # gone already: what was asked
            helm.uninstall(release, ctx.target, timeout=timeout, wait=True, no_hooks=no_hooks)

    def take_over(self, ctx: EngineContext, release: str) -> None:
        """Nothing to take: Helm made its Services when it installed."""

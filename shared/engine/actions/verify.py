"""Verify: after every install, upgrade and rollback, check the component for real. Its
workloads must be ready; unless the spec turns tests off, gunj's probe must pass, and so must
the chart's own Helm tests where it has any. Helm tests that could not run at all are reported,
not counted as failed: they say nothing about the release. What was found is recorded either
way: a revision that fails verification is remediated like one that failed to install."""

from __future__ import annotations

import time
from datetime import timedelta

from ...errors import GunjError
from ...helm.release_tests import ReleaseTester
from ..action import Action, ActionResult
from ..context import EngineContext
from ..verification.probe import ENDPOINTS, run_probe
from ..verification.workloads import Workload, wait_ready, workloads, workloads_of
from .step import Step


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired, observed = step.require_desired(), step.observed
    budget = ctx.operation_timeout(desired.budget.test_timeout, f"verification of {step.release}")
    deadline = time.monotonic() + budget.total_seconds()
    ctx.progress(step.component, f"verify revision {observed.revision}")
    passed, found = serving(ctx, step, deadline)
    if passed and desired.spec.tests.enabled:
        if observed.has_tests:
            try:
                helm = ctx.require_helm(f"the Helm tests of {step.release}")
                report = ReleaseTester(helm, ctx.access).run(
                    step.release, ctx.target, _left(deadline)
                )
            except GunjError as error:
                if error.transient:
                    raise  # the next event verifies again
                # Tests that could not run (a test pod the API server refused, no Helm here, an
                # error Helm gives for another reason) are no verdict on the release: what was
                # judged above decides, and a person reads why the tests did not run.
                found.append(f"Helm tests could not run: {ctx.redactor(str(error))}")
            else:
                passed = report.passed
                found.append(f"Helm tests: {report.summary()}")
        elif step.backend.mode == "helm":
            found.append("no Helm tests in the chart")
    if not desired.spec.tests.enabled:
        found.append("tests disabled by the spec")
    summary = "; ".join(found)
    return ActionResult(
        Action.VERIFY,
        passed,
        summary,
        observed.revision,
        counts_as_failure=not passed and observed.content_digest == desired.digest,
        verification=(passed, summary),
    )


def serving(ctx: EngineContext, step: Step, deadline: float) -> tuple[bool, list[str]]:
    """Whether what the release holds serves, by ``deadline`` (time.monotonic()): its
    workloads ready, and, unless the spec turns tests off, gunj's probe of the component's
    readiness endpoint passing; and what was found."""
    desired, observed = step.require_desired(), step.observed
    listed = _workloads(ctx, step)
    passed, message = wait_ready(ctx.access, listed, max(deadline - time.monotonic(), 1.0))
    found = [message]
    if passed and desired.spec.tests.enabled and step.component in ENDPOINTS:
        probe = run_probe(
            ctx.access,
            platform=ctx.platform,
            component=step.component,
            release=step.release,
            namespace=desired.namespace,
            chart=f"{observed.chart}-{observed.chart_version}",
            image=ctx.settings.probe_image,
            annotations=ctx.settings.probe_annotations,
            timeout=max(deadline - time.monotonic(), 1.0),
        )
        passed = probe.passed
        found.append(probe.message)
    return passed, found


def _workloads(ctx: EngineContext, step: Step) -> list[Workload]:
    """The workloads of the revision the step observed (read fresh before it acted): from the
    objects the live check parsed of it already (once per revision), or from its manifest."""
    observed, namespace = step.observed, step.require_desired().namespace
    release = None
    if ctx.live is not None:
        release = ctx.live.release(observed, mode=step.backend.mode, settings=step.drift)
    if release is not None:
        return workloads_of((o.body for o in release.objects), namespace)
    current = observed.history[-1] if observed.history else None
    return workloads(str(current.decode().get("manifest", "")) if current else "", namespace)


def _left(deadline: float) -> timedelta:
    return timedelta(seconds=max(deadline - time.monotonic(), 1.0))

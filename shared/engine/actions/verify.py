"""Verify: after every install, upgrade and rollback, check the component for real. Its
workloads must be ready; unless the spec turns tests off, gunj's probe must pass, and so must
the chart's own Helm tests where it has any. Helm tests that could not run at all are reported,
not counted as failed: they say nothing about the release. What was found is recorded either
way: a revision that fails verification is remediated like one that failed to install.

Once the workloads are ready, the probe and the chart's Helm tests run at the same time (the
tests on a thread of their own, which waits for its Helm process): neither needs the other, and
the verdict needs both."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

from ...errors import GunjError
from ...helm.release_tests import ReleaseTester
from ..action import Action, ActionResult
from ..context import EngineContext
from ..verification.probe import ENDPOINTS, run_probe
from ..verification.workloads import Workload, wait_ready, workloads, workloads_of
from .step import Step

T = TypeVar("T")


def run(ctx: EngineContext, step: Step) -> ActionResult:
    desired, observed = step.require_desired(), step.observed
    budget = ctx.operation_timeout(desired.budget.test_timeout, f"verification of {step.release}")
    deadline = time.monotonic() + budget.total_seconds()
    ctx.progress(step.component, f"verify revision {observed.revision}")
    tests = desired.spec.tests.enabled and observed.has_tests
    with ThreadPoolExecutor(1, thread_name_prefix="helm-tests") as pool:

        def helm_tests() -> Future[tuple[bool | None, str]]:
            return pool.submit(_helm_tests, ctx, step, deadline)

        passed, found, started = serving(ctx, step, deadline, beside=helm_tests if tests else None)
        if started is not None:
            verdict, message = started.result()  # a transient error: the next event verifies
            passed = passed and verdict is not False
            found.append(message)
    if passed and desired.spec.tests.enabled and not tests and step.backend.mode == "helm":
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


def _helm_tests(ctx: EngineContext, step: Step, deadline: float) -> tuple[bool | None, str]:
    """The chart's Helm tests: passed or not, and what they found (None: they could not run,
    which is no verdict on the release)."""
    try:
        helm = ctx.require_helm(f"the Helm tests of {step.release}")
        report = ReleaseTester(helm, ctx.access).run(step.release, ctx.target, _left(deadline))
    except GunjError as error:
        if error.transient:
            raise  # the next event verifies again
        # Tests that could not run (a test pod the API server refused, no Helm here, an error
        # Helm gives for another reason) are no verdict on the release: what else was judged
        # decides, and a person reads why the tests did not run.
        return None, f"Helm tests could not run: {ctx.redactor(str(error))}"
    return report.passed, f"Helm tests: {report.summary()}"


def serving(
    ctx: EngineContext,
    step: Step,
    deadline: float,
    beside: Callable[[], T] | None = None,
) -> tuple[bool, list[str], T | None]:
    """Whether what the release holds serves, by ``deadline`` (time.monotonic()): its
    workloads ready, and, unless the spec turns tests off, gunj's probe of the component's
    readiness endpoint passing; and what was found. ``beside`` is started once the workloads
    are ready, before the probe (its result is returned: None when it was not started)."""
    desired, observed = step.require_desired(), step.observed
    listed = _workloads(ctx, step)
    passed, message = wait_ready(ctx.access, listed, max(deadline - time.monotonic(), 1.0))
    found = [message]
    started = beside() if passed and beside is not None else None
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
    return passed, found, started


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

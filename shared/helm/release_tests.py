"""Running a release's Helm tests: each test pod's outcome, then the pods cleaned up.

Helm records each test hook's last run on the release itself (which is how
:mod:`.releases` knows whether a revision was tested); the outcomes are read from there, from
the release's storage Secret through the API, not by another Helm process (Helm 4's
``helm status`` also reads every object of the release and their pods). The pods are not needed
after that, and left behind they would block the next run of a chart whose hooks keep their
pods.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import timedelta

from ..kube import ClusterAccess
from ..kube.errors import ApiNotFound
from .client import HelmClient, KubeTarget, test_run
from .errors import ReleaseNotFound
from .models import Release, TestOutcome
from .releases import ReleaseStore


@dataclass(frozen=True)
class TestReport:
    __test__ = False  # not a pytest test class, despite its name

    release: str
    revision: int
    outcomes: tuple[TestOutcome, ...]
    duration: timedelta
    message: str
    cleaned_up: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Every test passed, and there was one at least: an empty run proves nothing."""
        return bool(self.outcomes) and all(outcome.passed for outcome in self.outcomes)

    def summary(self) -> str:
        if not self.outcomes:
            return "no tests"
        failed = [o.name for o in self.outcomes if not o.passed]
        if not failed:
            return f"{len(self.outcomes)} test(s) passed"
        return f"{len(failed)} of {len(self.outcomes)} test(s) failed: {', '.join(failed)}"


class ReleaseTester:
    def __init__(self, helm: HelmClient, access: ClusterAccess) -> None:
        self.helm = helm
        self.access = access

    def run(self, release: str, target: KubeTarget, timeout: timedelta) -> TestReport:
        started = time.monotonic()
        message = self.helm.run_tests(release, target, timeout=timeout)
        run = test_run(self._stored(release, target.namespace), message)
        pods = [outcome.name for outcome in run.outcomes if outcome.pod]
        cleaned = tuple(self._clean_up(target.namespace, pods))
        return TestReport(
            release=release,
            revision=run.revision,
            outcomes=tuple(run.outcomes),
            duration=timedelta(seconds=time.monotonic() - started),
            message=run.message,
            cleaned_up=cleaned,
        )

    def _stored(self, release: str, namespace: str) -> Release:
        """The release's newest revision, as Helm stored it (what ``helm status`` shows)."""
        history = ReleaseStore(self.access).revisions(release, namespace)
        if not history:
            raise ReleaseNotFound(f"release {release} is not in namespace {namespace}")
        return Release.model_validate(history[-1].decode())

    def _clean_up(self, namespace: str, pods: list[str]) -> list[str]:
        deleted = []
        for pod in pods:
            # A hook-delete-policy may have removed it already.
            with contextlib.suppress(ApiNotFound):
                self.access.core.delete_namespaced_pod(pod, namespace, grace_period_seconds=0)
                deleted.append(pod)
        return deleted

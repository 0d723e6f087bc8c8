"""A typed client over the real Helm command line, for Helm 3.17+ and Helm 4 alike.

Why a thin wrapper of our own rather than pyhelm3: pyhelm3 is asyncio-only (the functions and the
CLI are synchronous), targets Helm 3's flags only, and maps every failure to one error type. The
engine needs Helm 4's dialect (``--rollback-on-failure``, wait strategies, server-side apply),
errors typed by cause so Pub/Sub can retry transient ones, and secrets kept out of argv and out of
error messages. The wrapper stays small: arguments are lists (never a shell), values travel in a
private temporary file, timeouts are real durations, and every call names its kubeconfig, context
and namespace explicitly.

Pinning: Helm runs with an environment of the client's own. ``KUBECONFIG``, ``HELM_DRIVER`` and
every other ``HELM_*`` variable of the caller are dropped, so a person's shell or a function's
configuration can never point a call at another cluster, storage driver or repository cache.

Deadlines: Helm applies ``--timeout`` to each phase of an operation (every hook, the wait),
so one operation may run for a multiple of it. Here a call's ``timeout`` is the whole
operation's: the process is asked to stop (SIGTERM, on which Helm marks a cancelled install or
upgrade failed) when it passes, and killed :data:`STOP_GRACE` later. Installs and upgrades carry
the moment after which no Helm process of theirs can still run as the release label
:data:`DEADLINE_LABEL`, so a later reconcile can tell a live operation from a dead one's lock. A
Helm process also gets SIGTERM when the Python process that started it dies: it is started
through util-linux's ``setpriv --pdeathsig`` where that exists (not through a ``preexec_fn``,
which would run Python between fork and exec, unsafe in a process with gRPC's threads).

Secrets: every error message is scrubbed by the client's :class:`~shared.redaction.Redactor`,
shared with the rest of a reconcile; callers add what they learn, and no call can forget to.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from ..cache import cache_root
from ..redaction import Redactor
from .binary import HelmBinary
from .errors import HelmTimeout, TestFailed, classify
from .models import (
    ChartReference,
    ListedRelease,
    Release,
    ReleaseMetadata,
    Revision,
    TestOutcome,
    TestRun,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = timedelta(minutes=5)
# Helm's own --timeout gets this head start on the deadline, so a plain timeout is reported in
# Helm's words rather than cut off.
HELM_MARGIN = timedelta(seconds=5)
# After SIGTERM, the time Helm has to record the cancelled operation before it is killed.
STOP_GRACE = timedelta(seconds=15)
DEADLINE_LABEL = "gunj.io/deadline"
# Variables of the caller's environment that would redirect Helm elsewhere.
_LEAKING = ("KUBECONFIG",)


@dataclass(frozen=True)
class KubeTarget:
    """Which cluster and namespace a call acts on."""

    namespace: str
    kubeconfig: Path | None = None
    context: str | None = None

    def flags(self) -> list[str]:
        flags = ["--namespace", self.namespace]
        if self.kubeconfig is not None:
            flags += ["--kubeconfig", str(self.kubeconfig)]
        if self.context:
            flags += ["--kube-context", self.context]
        return flags


def helm_timeout(timeout: timedelta) -> str:
    """Helm's own ``--timeout`` for an operation that must end within ``timeout``."""
    return go_duration(max(timeout - HELM_MARGIN, timeout / 2))


def go_duration(duration: timedelta) -> str:
    milliseconds = int(duration.total_seconds() * 1000)
    if milliseconds <= 0:
        raise ValueError(f"timeout must be positive, got {duration}")
    return f"{milliseconds}ms"


@functools.cache
def _die_with_parent() -> list[str]:
    """A prefix that makes Linux send the Helm process SIGTERM when gunj dies, so no Helm
    outlives the reconcile (and the Lease) that started it; none where setpriv is missing."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def latest_end(timeout: timedelta, started: float | None = None) -> int:
    """The Unix time after which a Helm operation started now with ``timeout`` cannot run."""
    started = time.time() if started is None else started
    return int(started + (timeout + STOP_GRACE).total_seconds()) + 1


@dataclass
class HelmClient:
    binary: HelmBinary
    # Helm's own state (repository cache, registry logins) is kept apart from the user's.
    home: Path | None = None
    plain_http_registries: frozenset[str] = frozenset()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    redactor: Redactor = field(default_factory=Redactor)

    @classmethod
    def for_path(cls, path: Path, **kwargs: Any) -> HelmClient:
        return cls(HelmBinary(path), **kwargs)

    @property
    def major(self) -> int:
        return self.binary.major

    # --- plumbing ----------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The environment Helm runs in: the caller's, without anything that would point Helm
        elsewhere, and Helm homes and storage driver of the client's own."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _LEAKING and not key.startswith("HELM_")
        }
        env.update(self.extra_env)
        home = self.home if self.home is not None else cache_root() / "helm"
        env["HELM_CACHE_HOME"] = str(home / "cache")
        env["HELM_CONFIG_HOME"] = str(home / "config")
        env["HELM_DATA_HOME"] = str(home / "data")
        env["HELM_DRIVER"] = "secret"
        return env

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        secrets: Iterable[str] = (),
    ) -> str:
        """Run Helm for at most ``timeout``; return stdout or raise the typed error for its
        stderr, with every known secret scrubbed."""
        self.redactor.add(*secrets)
        command = [str(self.binary.path), *args]
        log.debug("helm %s", " ".join(args))
        process = subprocess.Popen(
            [*_die_with_parent(), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.environment(),
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout.total_seconds())
        except subprocess.TimeoutExpired:
            stderr = self._stop(process)
            detail = f": {self.redactor(stderr.strip().splitlines()[-1])}" if stderr.strip() else ""
            raise HelmTimeout(
                f"helm {args[0]} did not finish within {timeout} and was stopped{detail}",
                command=command,
            ) from None
        if process.returncode != 0:
            raise classify(self.redactor(stderr), command=command)
        return stdout

    @staticmethod
    def _stop(process: subprocess.Popen[str]) -> str:
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=STOP_GRACE.total_seconds())
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        return stderr or ""

    def _json(
        self,
        args: Sequence[str],
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        secrets: Iterable[str] = (),
    ) -> Any:
        output = self.run([*args, "--output", "json"], timeout=timeout, secrets=secrets)
        return json.loads(output) if output.strip() else None

    @contextmanager
    def _values_file(self, values: Mapping[str, Any]) -> Iterator[Path]:
        # Values may hold resolved secrets: a private file, never the command line.
        with tempfile.TemporaryDirectory(prefix="gunj-values-") as folder:
            path = Path(folder) / "values.yaml"
            path.touch(mode=0o600)
            path.write_text(yaml.safe_dump(dict(values), sort_keys=True))
            yield path

    def _chart_flags(self, chart: ChartReference) -> list[str]:
        flags = chart.as_arguments()
        if chart.is_oci and chart.repository:
            host = chart.repository.removeprefix("oci://").split("/", 1)[0]
            if host in self.plain_http_registries:
                flags.append("--plain-http")
        return flags

    # --- changes -----------------------------------------------------------------------------

    def install(
        self,
        release: str,
        chart: ChartReference,
        target: KubeTarget,
        *,
        values: Mapping[str, Any] | None = None,
        timeout: timedelta = DEFAULT_TIMEOUT,
        wait: bool = True,
        rollback_on_failure: bool = False,
        no_hooks: bool = False,
        create_namespace: bool = False,
        labels: Mapping[str, str] | None = None,
        description: str | None = None,
        secrets: Iterable[str] = (),
    ) -> Release:
        return self._change(
            ["install", release],
            chart,
            target,
            values=values,
            timeout=timeout,
            wait=wait,
            rollback_on_failure=rollback_on_failure,
            no_hooks=no_hooks,
            labels=labels,
            description=description,
            secrets=secrets,
            extra=["--create-namespace"] if create_namespace else [],
        )

    def upgrade(
        self,
        release: str,
        chart: ChartReference,
        target: KubeTarget,
        *,
        values: Mapping[str, Any] | None = None,
        timeout: timedelta = DEFAULT_TIMEOUT,
        wait: bool = True,
        rollback_on_failure: bool = False,
        no_hooks: bool = False,
        install: bool = False,
        labels: Mapping[str, str] | None = None,
        description: str | None = None,
        secrets: Iterable[str] = (),
    ) -> Release:
        # --reset-values: the desired values are complete; nothing may linger from before.
        extra = ["--reset-values"] + (["--install"] if install else [])
        return self._change(
            ["upgrade", release],
            chart,
            target,
            values=values,
            timeout=timeout,
            wait=wait,
            rollback_on_failure=rollback_on_failure,
            no_hooks=no_hooks,
            labels=labels,
            description=description,
            secrets=secrets,
            extra=extra,
        )

    def _change(
        self,
        verb: list[str],
        chart: ChartReference,
        target: KubeTarget,
        *,
        values: Mapping[str, Any] | None,
        timeout: timedelta,
        wait: bool,
        rollback_on_failure: bool,
        no_hooks: bool,
        labels: Mapping[str, str] | None,
        description: str | None,
        secrets: Iterable[str],
        extra: list[str],
    ) -> Release:
        args = [
            *verb,
            *self._chart_flags(chart),
            *target.flags(),
            "--timeout",
            helm_timeout(timeout),
            *self.binary.wait_flags(wait),
            *extra,
        ]
        if rollback_on_failure:
            args.append(self.binary.rollback_on_failure_flag())
        if no_hooks:
            args.append("--no-hooks")
        labels = {**(labels or {}), DEADLINE_LABEL: str(latest_end(timeout))}
        args += ["--labels", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
        if description:
            args += ["--description", description]
        with self._values_file(values or {}) as values_path:
            data = self._json(
                [*args, "--values", str(values_path)], timeout=timeout, secrets=secrets
            )
        return Release.model_validate(data)

    def uninstall(
        self,
        release: str,
        target: KubeTarget,
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        wait: bool = True,
        no_hooks: bool = False,
    ) -> None:
        args = [
            "uninstall",
            release,
            *target.flags(),
            "--timeout",
            helm_timeout(timeout),
            *self.binary.wait_flags(wait),
        ]
        if no_hooks:
            args.append("--no-hooks")
        self.run(args, timeout=timeout)

    def rollback(
        self,
        release: str,
        revision: int,
        target: KubeTarget,
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        wait: bool = True,
        no_hooks: bool = False,
    ) -> None:
        """Roll back to ``revision`` (0: the previous one); Helm records a new revision."""
        args = [
            "rollback",
            release,
            str(revision),
            *target.flags(),
            "--timeout",
            helm_timeout(timeout),
            *self.binary.wait_flags(wait),
        ]
        if no_hooks:
            args.append("--no-hooks")
        self.run(args, timeout=timeout)

    # --- reads -------------------------------------------------------------------------------

    def status(self, release: str, target: KubeTarget, *, revision: int | None = None) -> Release:
        args = ["status", release, *target.flags()]
        if revision is not None:
            args += ["--revision", str(revision)]
        return Release.model_validate(self._json(args))

    def metadata(
        self, release: str, target: KubeTarget, *, revision: int | None = None
    ) -> ReleaseMetadata:
        args = ["get", "metadata", release, *target.flags()]
        if revision is not None:
            args += ["--revision", str(revision)]
        return ReleaseMetadata.model_validate(self._json(args))

    def history(self, release: str, target: KubeTarget, *, limit: int = 256) -> list[Revision]:
        data = self._json(["history", release, *target.flags(), "--max", str(limit)])
        return [Revision.model_validate(entry) for entry in data or []]

    def get_values(
        self,
        release: str,
        target: KubeTarget,
        *,
        revision: int | None = None,
        all_values: bool = False,
    ) -> dict[str, Any]:
        args = ["get", "values", release, *target.flags()]
        if revision is not None:
            args += ["--revision", str(revision)]
        if all_values:
            args.append("--all")
        data = self._json(args)
        return dict(data or {})

    def get_manifest(self, release: str, target: KubeTarget, *, revision: int | None = None) -> str:
        args = ["get", "manifest", release, *target.flags()]
        if revision is not None:
            args += ["--revision", str(revision)]
        return self.run(args)

    def list_releases(
        self,
        target: KubeTarget | None = None,
        *,
        all_namespaces: bool = False,
        include_all_states: bool = True,
        name_filter: str | None = None,
        kubeconfig: Path | None = None,
    ) -> list[ListedRelease]:
        args = ["list"]
        if all_namespaces:
            args.append("--all-namespaces")
            if kubeconfig is not None:
                args += ["--kubeconfig", str(kubeconfig)]
        elif target is not None:
            args += target.flags()
        if include_all_states:
            # Helm 4 dropped --all; the state flags mean the same to both majors.
            args += [
                "--deployed",
                "--failed",
                "--pending",
                "--superseded",
                "--uninstalling",
                "--uninstalled",
            ]
        if name_filter:
            args += ["--filter", name_filter]
        return [ListedRelease.model_validate(entry) for entry in self._json(args) or []]

    def template(
        self,
        release: str,
        chart: ChartReference,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        kube_version: str | None = None,
        api_versions: Sequence[str] = (),
        secrets: Iterable[str] = (),
    ) -> str:
        """Render offline: no cluster is contacted."""
        args = ["template", release, *self._chart_flags(chart), "--namespace", namespace]
        if kube_version:
            args += ["--kube-version", kube_version]
        for api_version in api_versions:
            args += ["--api-versions", api_version]
        with self._values_file(values or {}) as values_path:
            return self.run([*args, "--values", str(values_path)], secrets=secrets)

    def show_chart(self, chart: ChartReference) -> dict[str, Any]:
        """The chart's Chart.yaml, fetched from its repository or registry."""
        data = yaml.safe_load(self.run(["show", "chart", *self._chart_flags(chart)]))
        return dict(data or {})

    # --- tests -------------------------------------------------------------------------------

    def test(
        self, release: str, target: KubeTarget, *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> TestRun:
        """Run the release's tests. A failing or timed-out test is an outcome, not an exception;
        anything else (an unreachable cluster, an unknown release, an error Helm gives for
        another reason) raises: it says nothing about the release, and must not trigger a
        rollback as a failed test would."""
        message = ""
        try:
            self.run(
                ["test", release, *target.flags(), "--timeout", helm_timeout(timeout)],
                timeout=timeout,
            )
        except (TestFailed, HelmTimeout) as error:
            message = str(error)
        status = self.status(release, target)
        outcomes = [
            TestOutcome(
                name=hook.name,
                phase=hook.last_run.phase or "Unknown",
                started_at=hook.last_run.started_at,
                completed_at=hook.last_run.completed_at,
            )
            for hook in status.test_hooks
        ]
        if message and all(outcome.passed for outcome in outcomes):
            # Helm failed although no pod reports failure (e.g. it timed out): not a pass.
            outcomes.append(TestOutcome(name="helm test", phase="Failed", pod=False))
        return TestRun(
            release=release, revision=status.revision, outcomes=outcomes, message=message
        )

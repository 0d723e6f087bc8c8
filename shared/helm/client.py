"""A typed client over the real Helm command line, for Helm 3.17+ and Helm 4 alike.

Why a thin wrapper of our own rather than pyhelm3: pyhelm3 is asyncio-only (the functions and the
CLI are synchronous), targets Helm 3's flags only, and maps every failure to one error type. The
engine needs Helm 4's dialect (``--rollback-on-failure``, wait strategies, server-side apply),
errors typed by cause so Pub/Sub can retry transient ones, and secrets kept out of argv and out of
error messages. The wrapper stays small: arguments are lists (never a shell), values travel in a
private temporary file, timeouts are real durations, and every call names its kubeconfig, context
and namespace explicitly.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from .binary import HelmBinary
from .errors import HelmError, HelmTimeout, classify
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
# Helm enforces its own --timeout; the process gets this much longer before it is killed.
PROCESS_GRACE = timedelta(seconds=30)
REDACTED = "***"


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


def go_duration(duration: timedelta) -> str:
    milliseconds = int(duration.total_seconds() * 1000)
    if milliseconds <= 0:
        raise ValueError(f"timeout must be positive, got {duration}")
    return f"{milliseconds}ms"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret string (longest first, so overlaps vanish whole) in ``text``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


@dataclass
class HelmClient:
    binary: HelmBinary
    # Helm's own state (repository cache, registry logins) is kept apart from the user's.
    home: Path | None = None
    plain_http_registries: frozenset[str] = frozenset()
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_path(cls, path: Path, **kwargs: Any) -> HelmClient:
        return cls(HelmBinary(path), **kwargs)

    @property
    def major(self) -> int:
        return self.binary.major

    # --- plumbing ----------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The environment Helm runs in (its own cache and config homes, when set)."""
        env = {**os.environ, **self.extra_env}
        if self.home is not None:
            env["HELM_CACHE_HOME"] = str(self.home / "cache")
            env["HELM_CONFIG_HOME"] = str(self.home / "config")
            env["HELM_DATA_HOME"] = str(self.home / "data")
        return env

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        secrets: Iterable[str] = (),
    ) -> str:
        """Run Helm; return stdout or raise the typed error for its stderr (secrets scrubbed)."""
        command = [str(self.binary.path), *args]
        log.debug("helm %s", " ".join(args))
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=self.environment(),
                timeout=(timeout + PROCESS_GRACE).total_seconds(),
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            raise HelmTimeout(
                f"helm {args[0]} did not finish within {timeout}", command=command
            ) from expired
        if result.returncode != 0:
            secrets = list(secrets)
            raise classify(scrub(result.stderr, secrets), command=command)
        return result.stdout

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
            go_duration(timeout),
            *self.binary.wait_flags(wait),
            *extra,
        ]
        if rollback_on_failure:
            args.append(self.binary.rollback_on_failure_flag())
        if no_hooks:
            args.append("--no-hooks")
        if labels:
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
            go_duration(timeout),
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
            go_duration(timeout),
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
        """Run the release's tests. A failing test is an outcome, not an exception; an
        unreachable cluster or an unknown release still raises."""
        message = ""
        try:
            self.run(
                ["test", release, *target.flags(), "--timeout", go_duration(timeout)],
                timeout=timeout,
            )
        except HelmError as error:
            if type(error) not in {HelmError, HelmTimeout}:
                raise
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

"""Helm's command line, typed: the arguments of each operation, for Helm 3.17+ and Helm 4 alike,
and Helm's output decoded into models. Running the process is :mod:`.process`'s.

Why a thin client of our own rather than pyhelm3: pyhelm3 is asyncio-only (the functions and the
CLI are synchronous) and speaks Helm 3's flags (``--atomic``, ``--wait``). It does give some
failures a type of their own by what stderr says (connection, chart or release not found,
render failure, invalid or existing resource, cancelled), but none says whether trying again can
help: a locked release or a timeout is its base ``Error``, and each message is Helm's stderr as
it was. The engine needs Helm 4's dialect (``--rollback-on-failure``, wait strategies,
server-side apply), errors typed by transient or permanent cause so Pub/Sub retries only what
can succeed later, and secrets kept out of argv and out of error messages.

The client stays small: arguments are lists (never a shell), values travel in a private
temporary file, timeouts are real durations, and every call names its kubeconfig, context and
namespace explicitly. Installs and upgrades share one set of options (:class:`ChangeOptions`)
and carry the moment after which no Helm process of theirs can still run as a release label
(``gunj.io/deadline``) and the Helm process that runs them (``gunj.io/helm-runner``), so a later
reconcile can tell a live operation from a dead one's lock.

Secrets: every error message is scrubbed by the client's :class:`~shared.redaction.Redactor`,
shared with the rest of a reconcile; callers add what they learn, and no call can forget to.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypedDict, Unpack

from .. import yamlio
from ..labels import DEADLINE_LABEL, RUNNER_LABEL
from ..redaction import Redactor
from .binary import HelmBinary
from .errors import HelmTimeout, TestFailed
from .models import (
    ChartReference,
    ListedRelease,
    Release,
    ReleaseMetadata,
    Revision,
    TestOutcome,
    TestRun,
)
from .process import (
    DEFAULT_TIMEOUT,
    Watch,
    helm_environment,
    helm_timeout,
    latest_end,
    run_helm,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KubeTarget:
    """Which cluster and namespace a call acts on."""

    namespace: str
    kubeconfig: Path | None = None
    context: str | None = None
    as_user: str | None = None
    """The user Helm impersonates (``--kube-as-user``); None: the kubeconfig's own."""

    def flags(self) -> list[str]:
        flags = ["--namespace", self.namespace]
        if self.kubeconfig is not None:
            flags += ["--kubeconfig", str(self.kubeconfig)]
        if self.context:
            flags += ["--kube-context", self.context]
        if self.as_user:
            flags += ["--kube-as-user", self.as_user]
        return flags


@dataclass(frozen=True)
class ChangeOptions:
    """How an install or an upgrade runs: the options the two share."""

    values: Mapping[str, Any] | None = None
    """The complete values, in a private file (``--values``), never on the command line."""
    timeout: timedelta = DEFAULT_TIMEOUT
    """The whole operation's deadline, hooks included (see :mod:`.process`)."""
    wait: bool = True
    """Wait for the release's resources to be ready (the major's wait flags)."""
    rollback_on_failure: bool = False
    """Helm 3's ``--atomic``, Helm 4's ``--rollback-on-failure``."""
    no_hooks: bool = False
    labels: Mapping[str, str] | None = None
    """Release labels; :data:`~shared.labels.DEADLINE_LABEL` and
    :data:`~shared.labels.RUNNER_LABEL` (the Helm process itself) are always added."""
    description: str | None = None
    secrets: Iterable[str] = ()
    """Strings to scrub from any error message, added to the client's redactor."""
    watch: Watch | None = None
    """Asked every few seconds while Helm runs; a reason it gives stops Helm
    (:class:`~.errors.HelmBlocked`): the cluster says the change cannot come up."""


class ChangeKeywords(TypedDict, total=False):
    """:class:`ChangeOptions` as keyword arguments of :meth:`HelmClient.install` and
    :meth:`HelmClient.upgrade` (a unit test holds the two to the same names)."""

    values: Mapping[str, Any] | None
    timeout: timedelta
    wait: bool
    rollback_on_failure: bool
    no_hooks: bool
    labels: Mapping[str, str] | None
    description: str | None
    secrets: Iterable[str]
    watch: Watch | None


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
        """The pinned environment Helm runs in (:func:`.process.helm_environment`)."""
        return helm_environment(self.home, self.extra_env)

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        secrets: Iterable[str] = (),
        watch: Watch | None = None,
        runner_label: str | None = None,
    ) -> str:
        """Run Helm for at most ``timeout``; return stdout or raise the typed error for its
        stderr, with ``secrets`` and every secret known before scrubbed (``watch`` and
        ``runner_label``: see :func:`.process.run_helm`)."""
        self.redactor.add(*secrets)
        log.debug("helm %s", " ".join(args))
        return run_helm(
            self.binary.path,
            args,
            env=self.environment(),
            timeout=timeout,
            redactor=self.redactor,
            watch=watch,
            runner_label=runner_label,
        )

    def _json(
        self,
        args: Sequence[str],
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        secrets: Iterable[str] = (),
        watch: Watch | None = None,
        runner_label: str | None = None,
    ) -> Any:
        output = self.run(
            [*args, "--output", "json"],
            timeout=timeout,
            secrets=secrets,
            watch=watch,
            runner_label=runner_label,
        )
        return json.loads(output) if output.strip() else None

    @contextmanager
    def _values_file(self, values: Mapping[str, Any]) -> Iterator[Path]:
        # Values may hold resolved secrets: a private file, never the command line. Written as
        # JSON, which Helm reads as YAML: PyYAML writes `n` and `y` plain, and Helm's YAML 1.1
        # parser reads them as false and true (an annotation key `n` would become `false`).
        with tempfile.TemporaryDirectory(prefix="gunj-values-") as folder:
            path = Path(folder) / "values.yaml"
            path.touch(mode=0o600)
            path.write_text(json.dumps(dict(values), sort_keys=True, default=str))
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
        create_namespace: bool = False,
        **options: Unpack[ChangeKeywords],
    ) -> Release:
        """``helm install``; ``options`` are :class:`ChangeOptions`."""
        extra = ["--create-namespace"] if create_namespace else []
        return self._change(["install", release], chart, target, ChangeOptions(**options), extra)

    def upgrade(
        self,
        release: str,
        chart: ChartReference,
        target: KubeTarget,
        *,
        install: bool = False,
        **options: Unpack[ChangeKeywords],
    ) -> Release:
        """``helm upgrade`` (``--install``: install it if absent); ``options`` are
        :class:`ChangeOptions`."""
        # --reset-values: the desired values are complete; nothing may linger from before.
        extra = ["--reset-values"] + (["--install"] if install else [])
        return self._change(["upgrade", release], chart, target, ChangeOptions(**options), extra)

    def _change(
        self,
        verb: list[str],
        chart: ChartReference,
        target: KubeTarget,
        options: ChangeOptions,
        extra: list[str],
    ) -> Release:
        args = [
            *verb,
            *self._chart_flags(chart),
            *target.flags(),
            "--timeout",
            helm_timeout(options.timeout),
            *self.binary.wait_flags(options.wait),
            *extra,
        ]
        if options.rollback_on_failure:
            args.append(self.binary.rollback_on_failure_flag())
        if options.no_hooks:
            args.append("--no-hooks")
        labels = {**(options.labels or {}), DEADLINE_LABEL: str(latest_end(options.timeout))}
        args += ["--labels", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
        if options.description:
            args += ["--description", options.description]
        with self._values_file(options.values or {}) as values_path:
            data = self._json(
                [*args, "--values", str(values_path)],
                timeout=options.timeout,
                secrets=options.secrets,
                watch=options.watch,
                runner_label=RUNNER_LABEL,
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
        data = yamlio.safe_load(self.run(["show", "chart", *self._chart_flags(chart)]))
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

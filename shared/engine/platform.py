"""Reconcile a whole platform in one target cluster: under its Lease, with its custom resource
created or updated from the spec, every component reconciled in order (Prometheus, Loki and
Tempo before Grafana, whose datasources point at them), the status written after every action,
and one :class:`~.outcome.Outcome` at the end.

A second reconcile of a busy platform steps aside ("deferred", transient). A spec older than the
one the cluster has (by the publisher's generation) is ignored and reported. A message that was
applied already is recognised by its id ("duplicate"). An unchanged spec costs one list of the
namespace's releases and no Helm process: no upgrade, no chart pull, no render.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ..errors import GunjError
from ..events.alerts import Alert
from ..helm.binary import HelmBinary
from ..helm.charts import ChartLibrary
from ..helm.client import HelmClient
from ..helm.errors import RepositoryUnavailable
from ..helm.releases import ObservedRelease, ReleaseState, ReleaseStore
from ..helm.repositories import RepositorySettings
from ..kube import ClusterAccess
from ..kube.errors import api_error
from ..kube.events import EventRecorder, ObjectRef
from ..kube.lease import Lease
from ..native.store import OWNER as NATIVE_OWNER
from ..native.store import NativeStore
from ..redaction import Redactor
from ..values.limits import oversized_objects
from ..values.names import release_name
from ..values.plan import ComponentPlan, plan_platform, spec_mode
from ..values.spec import COMPONENTS, ObservabilityPlatform
from ..values.spec.platform import API_VERSION, KIND
from ..values.spec.status import HandledMessage, PlatformStatus
from ..values.templating import template_expressions
from . import operations
from .alert_target import Target
from .backends import Backend
from .backends.helm import HelmBackend
from .backends.native import NativeBackend
from .conditions import summarize
from .context import EngineContext, Progress, quiet
from .desired import DesiredRelease, desired_release
from .errors import Deferred, NotFound, RefusedSpec
from .loop import ComponentRun, Wanted, reconcile_component
from .modes import ModeChoice, choose_mode
from .outcome import ComponentReport, Outcome, Result
from .record import Recorder
from .resolution import VersionResolver
from .resource import (
    StoredPlatform,
    apply_platform,
    ensure_crd,
    read_platform,
    write_status,
)
from .settings import EngineSettings
from .sources import SecretSources
from .state import owned_by

HANDLED_MESSAGES = 20
READY = "every component is in sync and verified"
RESULT_MESSAGES: dict[Result, str] = {
    "ready": READY,
    "deferred": "a Helm operation of this platform may still be running; retry later",
    "progressing": "work remains; the next event continues it",
    "failed": "a component has no working release",
    "stalled": "a component cannot progress until the spec changes or a person acts",
}


def _result_of(runs: list[ComponentRun]) -> Result:
    """The platform's result from its components' states, the most pressing first."""
    states = {run.state for run in runs}
    if "Locked" in states:
        return "deferred"
    if "Progressing" in states:
        return "progressing"
    if "Failed" in states:
        return "failed"
    if states & {"Stalled", "Held"}:
        return "stalled"
    return "ready"


def default_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def spec_digest(platform: ObservabilityPlatform) -> str:
    text = json.dumps(platform.manifest().get("spec", {}), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Request:
    """Where a spec came from and how long its reconcile may take."""

    generation: int | None = None
    """The publisher's generation (older than the cluster's: ignored)."""
    message_id: str | None = None
    """The Pub/Sub message (applied already: a duplicate)."""
    source: str | None = None
    """Where the spec came from (a commit, ``gunj apply``, ``upgrade-check``)."""
    deadline: float | None = None
    """time.monotonic() by which to stop; None: no limit."""
    progress: Progress = quiet


@dataclass
class Reconciler:
    """Reconciles platforms in one cluster (one instance per cluster and process)."""

    cluster: str
    access: ClusterAccess
    settings: EngineSettings
    repositories: RepositorySettings = field(default_factory=RepositorySettings.from_environment)
    redactor: Redactor = field(default_factory=Redactor)
    allow_templates: bool = False
    identity: str = field(default_factory=default_identity)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    keep_alive: object = field(default=None, repr=False)
    """What must live as long as the reconciler (a connection's private kubeconfig)."""

    def __post_init__(self) -> None:
        # Without a Helm binary the engine still runs native components; whatever needs Helm
        # says what is missing (EngineContext.require_helm).
        binary = self.settings.helm_binary
        self.helm = (
            HelmClient(
                HelmBinary(binary),
                home=self.settings.cache / "helm",
                plain_http_registries=self.repositories.plain_http_hosts,
                redactor=self.redactor,
            )
            if binary is not None
            else None
        )
        self.charts = ChartLibrary(self.repositories, self.settings.cache)
        self.resolver = VersionResolver(
            self.charts, self.settings.cache, self.settings.version_recheck
        )
        self.store = ReleaseStore(self.access)
        native_store = ReleaseStore(self.access, owner=NATIVE_OWNER)
        self.backends: dict[str, Backend] = {
            "helm": HelmBackend(self.store, native=native_store),
            "native": NativeBackend(native_store, NativeStore(self.access), helm=self.store),
        }
        self.events = EventRecorder(self.access, "gunj", self.identity, self.redactor)
        self._namespaces: set[str] = set()

    # --- entry points --------------------------------------------------------------------------

    def apply(self, platform: ObservabilityPlatform, request: Request | None = None) -> Outcome:
        """Make the cluster match ``platform``."""
        request = request or Request()
        namespace, name = platform.metadata.namespace, platform.metadata.name
        started = time.monotonic()

        def work() -> Outcome:
            if namespace not in self._namespaces:
                self.access.ensure_namespace(namespace)
                self._namespaces.add(namespace)
            ensure_crd(self.access)
            already = self.in_sync(platform, request)
            if already is not None:
                return already
            with self._lease(namespace, name) as lease:
                return self._apply(platform, request, lease)

        return self._guarded(f"{namespace}/{name}", request.generation, started, work)

    def uninstall(self, namespace: str, name: str, request: Request | None = None) -> Outcome:
        """Remove every release the platform owns (and nothing else), then the object."""
        return operations.uninstall(self, namespace, name, request or Request())

    def rollback(
        self,
        namespace: str,
        name: str,
        component: str,
        *,
        to_revision: int | None = None,
        request: Request | None = None,
    ) -> Outcome:
        """Roll a component back (to its last good revision unless told), verify what was
        restored, and quarantine the chart version rolled back from, so the next reconcile
        holds the component instead of upgrading it again."""
        return operations.rollback(
            self, namespace, name, component, to_revision=to_revision, request=request or Request()
        )

    def roll_back_for_alert(
        self, target: Target, alert: Alert, request: Request | None = None
    ) -> Outcome:
        """Judge a health alert about a component, and roll it back when the alert followed a
        change of gunj's within the bake window."""
        return operations.roll_back_for_alert(self, target, alert, request or Request())

    def unquarantine(self, namespace: str, name: str, component: str, version: str) -> Outcome:
        """Lift a quarantine: reconcile may apply that chart version again."""
        return operations.unquarantine(self, namespace, name, component, version)

    def on_platform(
        self,
        namespace: str,
        name: str,
        request: Request,
        work: Callable[[StoredPlatform, Recorder, EngineContext], Outcome],
        *,
        missing: Outcome | None = None,
    ) -> Outcome:
        """Run ``work`` on an existing platform, under its Lease, with its status recorder and
        a context; every failure becomes an outcome. A platform that does not exist is
        ``missing`` (NotFound unless given)."""
        started = time.monotonic()

        def existing() -> StoredPlatform | Outcome:
            stored = read_platform(self.access, namespace, name)
            if stored is not None:
                return stored
            if missing is not None:
                return missing
            raise NotFound(f"platform {namespace}/{name} does not exist in {self.cluster}")

        def guarded() -> Outcome:
            # Looked for before a Lease is taken for a platform that is not there, and read
            # again under it: a reconcile that held it may have written status since, and this
            # work replaces the whole status.
            if isinstance(found := existing(), Outcome):
                return found
            with self._lease(namespace, name) as lease:
                stored = existing()
                if isinstance(stored, Outcome):
                    return stored
                recorder = self.recorder(stored, paused=False, lease=lease)
                ctx = self._context(namespace, name, request.deadline, request.progress, lease)
                return work(stored, recorder, ctx)

        return self._guarded(f"{namespace}/{name}", request.generation, started, guarded)

    def desired(
        self, plan: ComponentPlan, namespace: str, quarantined: tuple[str, ...]
    ) -> DesiredRelease:
        return desired_release(
            plan,
            resolver=self.resolver,
            sources=SecretSources(self.access, namespace),
            redactor=self.redactor,
            quarantined=quarantined,
        )

    # --- the work ------------------------------------------------------------------------------

    def _apply(self, platform: ObservabilityPlatform, request: Request, lease: Lease) -> Outcome:
        namespace, name = platform.metadata.namespace, platform.metadata.name
        generation = request.generation
        stored = read_platform(self.access, namespace, name)
        if stored is not None and generation is not None:
            known = stored.published_generation
            if known is not None and generation < known:
                return self.outcome(
                    "stale",
                    f"generation {generation} is older than generation {known}, which the "
                    "cluster has; ignored",
                    platform=stored,
                    generation=generation,
                )
        if not self.allow_templates and (expressions := template_expressions(platform)):
            return self._refused(
                "template expressions are not allowed on this cluster (allowTemplates in its "
                "registry entry): " + "; ".join(str(problem) for problem in expressions),
                stored,
                generation,
            )
        digest = spec_digest(platform)
        if stored is not None and (duplicate := self._duplicate(stored, platform, request)):
            return duplicate
        changed = stored is None or self._spec_changed(stored, platform, generation)
        if stored is None or changed:
            # A spec without a generation (a person's `gunj apply`) keeps the one the cluster
            # has: dropping it would let an older Pub/Sub generation through afterwards.
            known = stored.published_generation if stored is not None else None
            stored = apply_platform(
                self.access,
                platform,
                generation=generation if generation is not None else known,
                source=request.source,
            )
        recorder = self.recorder(stored, paused=platform.spec.paused, lease=lease)
        if platform.spec.paused:
            recorder.persist(working=False)
            return self.outcome(
                "paused", "the spec says paused", platform=stored, generation=generation
            )
        ctx = self._context(namespace, name, request.deadline, request.progress, lease)
        runs = self.components(ctx, recorder, platform, stored, check_sizes=changed)
        return self._finish(recorder, stored, runs, request, digest)

    def _refused(
        self, message: str, stored: StoredPlatform | None, generation: int | None
    ) -> Outcome:
        if stored is not None:
            self.events.emit(
                ObjectRef(API_VERSION, KIND, stored.namespace, stored.name, stored.uid),
                "Warning",
                "Refused",
                message,
            )
        return Outcome("refused", self.redactor(message), generation=generation)

    def wanted(
        self,
        recorder: Recorder,
        platform: ObservabilityPlatform | None,
        stored: StoredPlatform,
        *,
        check_sizes: bool,
    ) -> list[Wanted]:
        """What each component should be, beside what its releases are now (from the API
        server's cache), in the order to reconcile them. With no platform, nothing is wanted
        and every form gunj made goes. A component switching between Helm and native mode is
        wanted twice: its new form, then (once that is ready) its old form removed."""
        namespace, name = stored.namespace, stored.name
        plans = {plan.component: plan for plan in plan_platform(platform)} if platform else {}
        now = self.clock()
        seen = {
            mode: backend.store.observe_namespace(namespace, now, cached=True)
            for mode, backend in self.backends.items()
        }
        wanted = []
        for component in COMPONENTS:
            release = release_name(name, component)
            absent = ObservedRelease(release, namespace, ReleaseState.ABSENT)
            forms = {mode: found.get(release, absent) for mode, found in seen.items()}
            entries = [q for q in recorder.status.quarantined_versions if q.component == component]
            quarantined = frozenset(q.chart_version for q in entries if q.whole_version)
            held = {q.digest: q.reason for q in entries if q.digest}
            plan = plans.get(component)
            if plan is None:
                present = [m for m, f in forms.items() if f.state is not ReleaseState.ABSENT]
                if not present:
                    recorder.observed_absent(component)
                wanted += [
                    Wanted(component, release, forms[m], None, quarantined, self.backends[m])
                    for m in present
                ]
                continue
            assert platform is not None  # noqa: S101 - plans come from the platform
            choice = self._mode(platform, plan, forms, quarantined)
            if choice.fallback:
                recorder.fallback(component, choice.fallback)
            plan = replace(plan, mode=choice.mode)
            desired = self.desired(plan, namespace, tuple(sorted(quarantined)))
            # Refused before any Helm call: an object over the API server's limit. (An
            # unchanged spec was checked when it came; its installs and upgrades check again,
            # for valuesFrom content that changed since.)
            if check_sizes and (too_large := oversized_objects(plan, desired.values)):
                raise RefusedSpec(f"{component}: " + "; ".join(too_large))
            new = Wanted(
                component,
                release,
                forms[choice.mode],
                desired,
                quarantined,
                self.backends[choice.mode],
                quarantined_digests=held,
            )
            wanted.append(new)
            old = "native" if choice.mode == "helm" else "helm"
            if forms[old].state is not ReleaseState.ABSENT and owned_by(forms[old], name):
                wanted.append(
                    Wanted(
                        component,
                        release,
                        forms[old],
                        None,
                        quarantined,
                        self.backends[old],
                        after=new,
                    )
                )
        return wanted

    def _mode(
        self,
        platform: ObservabilityPlatform,
        plan: ComponentPlan,
        forms: dict[str, ObservedRelease],
        quarantined: frozenset[str],
    ) -> ModeChoice:
        def helm_problem() -> str | None:
            if missing := self.settings.missing_helm():
                return missing
            try:
                desired = self.desired(
                    replace(plan, mode="helm"), plan.namespace, tuple(sorted(quarantined))
                )
                self.charts.pull(desired.source, desired.version)
            except RepositoryUnavailable as error:
                # Only a repository that cannot be reached stands for "Helm cannot make it". A
                # missing Secret, a refused login or a chart that is not there is the spec's or
                # the cluster's to fix: native mode standing in would hide it, so it is raised.
                return self.redactor(str(error))
            return None

        explicit = spec_mode(platform, plan.spec) is not None
        return choose_mode(
            plan.mode,
            explicit,
            forms,
            helm_problem,
            fallback_allowed=self.settings.native_fallback,
            component=plan.component,
        )

    def components(
        self,
        ctx: EngineContext,
        recorder: Recorder,
        platform: ObservabilityPlatform | None,
        stored: StoredPlatform,
        *,
        check_sizes: bool = True,
    ) -> list[ComponentRun]:
        """Every component in order; with no platform, every release it owns is removed."""
        runs: list[ComponentRun] = []
        done: dict[int, ComponentRun] = {}
        for want in self.wanted(recorder, platform, stored, check_sizes=check_sizes):
            if want.after is not None:
                first = done.get(id(want.after))
                if first is None or first.state != "InSync":
                    waiting = f"its {want.backend.mode} form goes once the new one is ready"
                    runs.append(ComponentRun(want.component, "Progressing", waiting))
                    continue
            run = reconcile_component(ctx, recorder, want)
            done[id(want)] = run
            if want.after is not None and run.state == "Removed":
                # The switch is done: the new form takes what the old one held (its
                # Services), and is verified again through them.
                run = self._handed_over(ctx, recorder, want.after, run)
                runs = [r for r in runs if r.component != want.component]
            runs.append(run)
        return runs

    def _handed_over(
        self, ctx: EngineContext, recorder: Recorder, new: Wanted, removed: ComponentRun
    ) -> ComponentRun:
        new.backend.take_over(ctx, new.release)
        recorder.unverified(new.component)
        recorder.warn(
            new.component, "Switched", f"now in {new.backend.mode} mode; the old form is removed"
        )
        current = new.backend.store.observe(new.release, ctx.namespace, ctx.clock())
        again = reconcile_component(ctx, recorder, replace(new, first=current))
        again.actions = removed.actions + again.actions
        return again

    def _duplicate(
        self, stored: StoredPlatform, platform: ObservabilityPlatform, request: Request
    ) -> Outcome | None:
        """The outcome for a message applied already (the same id and spec), else None."""
        message_id, digest = request.message_id, spec_digest(platform)
        if not message_id or not any(
            m.message_id == message_id and m.digest == digest
            for m in stored.status.handled_messages
        ):
            return None
        return self.outcome(
            "duplicate",
            f"message {message_id} was applied already",
            platform=stored,
            generation=request.generation,
        )

    def in_sync(self, platform: ObservabilityPlatform, request: Request) -> Outcome | None:
        """The platform is as its spec says and its status already says so: the outcome,
        found without the Lease (nothing is written, so nothing can race). None when anything
        needs doing or writing; the reconcile then runs under the Lease."""
        namespace, name = platform.metadata.namespace, platform.metadata.name
        stored = read_platform(self.access, namespace, name)
        if stored is not None and (duplicate := self._duplicate(stored, platform, request)):
            return duplicate
        if (
            stored is None
            or platform.spec.paused
            or self._spec_changed(stored, platform, request.generation)
            or (not self.allow_templates and template_expressions(platform))
        ):
            return None
        # Silent: when something needs doing, the reconcile under the Lease looks again and
        # says what it finds.
        recorder = self.recorder(stored, paused=False, silent=True)
        runs = []
        for want in self.wanted(recorder, platform, stored, check_sizes=False):
            record = recorder.component(want.component)
            _, decision = want.judge(want.first, record, platform=name, now=self.clock())
            if decision.action is not None:
                return None
            recorder.observed(
                want.component, want.desired, want.first, decision, mode=want.backend.mode
            )
            runs.append(ComponentRun(want.component, decision.outcome, decision.reason))
        status = summarize(
            recorder.status.model_copy(update={"observed_generation": stored.generation}),
            now=self.clock(),
            generation=stored.generation,
            paused=False,
            working=False,
        )
        if status != stored.status:
            return None
        # Nothing to do: ready, or held, stalled or failed until the spec changes or a person
        # acts (a reconcile under the Lease would find the same, and write nothing).
        result = _result_of(runs)
        return self.outcome(
            result,
            RESULT_MESSAGES[result],
            platform=stored,
            generation=request.generation,
            runs=runs,
            status=status,
        )

    def _finish(
        self,
        recorder: Recorder,
        stored: StoredPlatform,
        runs: list[ComponentRun],
        request: Request,
        digest: str,
    ) -> Outcome:
        generation, message_id = request.generation, request.message_id
        result = _result_of(runs)
        status = recorder.status.model_copy(update={"observed_generation": stored.generation})
        if message_id and result not in {"deferred", "progressing"}:
            handled = HandledMessage.model_validate(
                {"messageId": message_id, "digest": digest, "time": self.clock()}
            )
            kept = [m for m in status.handled_messages if m.message_id != message_id]
            status = status.model_copy(
                update={"handled_messages": [*kept, handled][-HANDLED_MESSAGES:]}
            )
        recorder.status = status
        recorder.persist(working=False, only_if_changed=stored.status)
        return self.outcome(
            result,
            RESULT_MESSAGES[result],
            platform=stored,
            generation=generation,
            runs=runs,
            status=recorder.status,
        )

    # --- plumbing ------------------------------------------------------------------------------

    def _spec_changed(
        self, stored: StoredPlatform, platform: ObservabilityPlatform, generation: int | None
    ) -> bool:
        wanted = platform.manifest().get("spec", {})
        if stored.spec != wanted:
            return True
        return generation is not None and stored.published_generation != generation

    def recorder(
        self,
        stored: StoredPlatform,
        *,
        paused: bool,
        lease: Lease | None = None,
        silent: bool = False,
    ) -> Recorder:
        """The status record of ``stored`` for one reconcile (``silent``: no Events, for a look
        that writes nothing: the lock-free one, or a plan)."""

        def persist(status: PlatformStatus) -> None:
            if lease is not None and lease.lost.is_set():
                raise Deferred("lost the platform's Lease; its status is left to the holder")
            write_status(self.access, stored.namespace, stored.name, status)

        return Recorder(
            stored.status,
            about=ObjectRef(API_VERSION, KIND, stored.namespace, stored.name, stored.uid),
            events=self.events,
            redactor=self.redactor,
            persist=persist,
            clock=self.clock,
            generation=stored.generation,
            paused=paused,
            silent=silent,
        )

    def _context(
        self,
        namespace: str,
        name: str,
        deadline: float | None,
        progress: Progress,
        lease: Lease | None = None,
    ) -> EngineContext:
        return EngineContext(
            platform=name,
            namespace=namespace,
            helm=self.helm,
            access=self.access,
            store=self.store,
            charts=self.charts,
            redactor=self.redactor,
            settings=self.settings,
            deadline=deadline,
            progress=progress,
            clock=self.clock,
            backends=self.backends,
            lease=lease,
        )

    @contextmanager
    def _lease(self, namespace: str, name: str) -> Iterator[Lease]:
        # One identity per reconcile, not per process: a warm instance serves several events
        # at once, and each must hold the Lease alone.
        holder = f"{self.identity}/{uuid.uuid4().hex[:8]}"
        duration = timedelta(seconds=self.settings.lease_seconds)
        lease = Lease(self.access, namespace, f"gunj-{name}", holder, duration)
        held = lease.acquire()
        if held is not None:
            raise Deferred(
                f"platform {namespace}/{name} is being reconciled by {held.holder} "
                f"(lease until {held.expires.isoformat(timespec='seconds')})"
            )
        try:
            yield lease
        finally:
            lease.release()

    def _guarded(
        self,
        platform: str,
        generation: int | None,
        started: float,
        work: Callable[[], Outcome],
    ) -> Outcome:
        """Run ``work``; every failure becomes an outcome (transient or not), scrubbed."""
        try:
            outcome = work()
        except Deferred as error:
            outcome = Outcome("deferred", self.redactor(str(error)))
        except RefusedSpec as error:
            outcome = Outcome("refused", self.redactor(str(error)))
        except GunjError as error:
            outcome = Outcome("error", self.redactor(str(error)), transient_error=error.transient)
        except Exception as error:  # the Kubernetes client's own exceptions
            if type(error).__module__.startswith(("kubernetes", "urllib3")) or isinstance(
                error, OSError
            ):
                typed = api_error(error, "talking to the cluster")
                outcome = Outcome(
                    "error", self.redactor(str(typed)), transient_error=typed.transient
                )
            else:
                raise
        return replace(
            outcome,
            platform=platform,
            cluster=self.cluster,
            generation=generation if outcome.generation is None else outcome.generation,
            duration=time.monotonic() - started,
        )

    def outcome(
        self,
        result: Result,
        message: str,
        *,
        platform: StoredPlatform,
        generation: int | None,
        runs: list[ComponentRun] | None = None,
        status: PlatformStatus | None = None,
    ) -> Outcome:
        components = (status or platform.status).components
        reports = []
        for run in runs or []:
            record = components.get(run.component)
            reports.append(
                ComponentReport(
                    component=run.component,
                    state=run.state,
                    message=self.redactor(run.message),
                    chart_version=record.chart_version if record else None,
                    revision=record.revision if record else None,
                    actions=tuple(
                        f"{a.action.value}{'' if a.ok else ' failed'}" for a in run.actions
                    ),
                )
            )
        return Outcome(
            result, self.redactor(message), generation=generation, components=tuple(reports)
        )

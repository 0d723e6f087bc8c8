"""What each component of a platform should be, beside what its releases are now: its desired
release (chart, exact version, complete values), the mode it is made in (Helm or native), what
is quarantined for it, and how to judge it. The one place a reconcile, its lock-free look and a
plan get their picture of a platform from.

Building it costs no Helm process and no chart download, and one list of the namespace's
releases per mode, from the API server's cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial

from ..errors import GunjError
from ..helm.errors import RepositoryUnavailable
from ..helm.releases import ObservedRelease, ReleaseState
from ..values.names import release_name
from ..values.plan import ComponentPlan, plan_platform, spec_mode
from ..values.spec import COMPONENTS, ObservabilityPlatform
from ..values.spec.status import ComponentStatus
from .admission import values_refusal
from .backends import Backend
from .classify import Classification, classify, owned_by
from .decide import Decision, decide
from .desired import DesiredRelease, desired_release
from .errors import RefusedSpec
from .live.check import LiveChecker, Prefetched
from .live.ignore import DriftSettings, drift_settings
from .live.state import LiveState
from .modes import ModeChoice, choose_mode
from .parts import EngineParts
from .quarantine import Held, held_for
from .record import Recorder
from .resource import StoredPlatform
from .sources import SecretSources


@dataclass(frozen=True)
class Wanted:
    """A component: what it should be, what its release is now, and how it is made."""

    component: str
    release: str
    first: ObservedRelease
    """What the release was when the reconcile began (possibly from the API server's cache)."""
    desired: DesiredRelease | None
    """None when the component is no longer wanted."""
    held: Held
    backend: Backend
    after: Wanted | None = None
    """For the old form of a component switching modes: the new form, which must be in sync
    first."""
    drift: DriftSettings = field(default_factory=DriftSettings)
    live: LiveState | None = None
    """What the cluster holds of ``first`` (None: not looked at)."""
    switching: bool = False
    """The component's other form still stands (a switch of modes): the objects both name
    alike are the other's until it is gone, so the live objects say nothing yet."""

    def judge(
        self,
        observed: ObservedRelease,
        record: ComponentStatus | None,
        *,
        platform: str,
        now: datetime,
        live: LiveState | None,
    ) -> tuple[Classification, Decision]:
        """What ``observed`` (and ``live``, what the cluster holds of it) is against what is
        wanted, and what to do about it: the one judgement a reconcile, its lock-free look and
        a plan all make."""
        classification = classify(
            self.desired, observed, record, platform=platform, held=self.held, now=now, live=live
        )
        decision = decide(
            classification,
            self.desired,
            observed,
            record,
            correct_drift=self.drift.mode == "enabled",
        )
        return classification, decision

    def lookable(self, observed: ObservedRelease) -> bool:
        """Whether the live objects of ``observed`` say anything about this component: it is
        wanted, and its release holds what the spec asks for (otherwise an action is due
        anyway)."""
        return (
            self.desired is not None
            and self.after is None
            and not self.switching
            and observed.state is ReleaseState.DEPLOYED
            and observed.content_digest == self.desired.digest
        )


def look_live(
    checker: LiveChecker,
    wants: Sequence[tuple[Wanted, ObservedRelease]],
    prefetched: Prefetched | None = None,
) -> list[LiveState | None]:
    """What the cluster holds of each release, looked at together (one list per kind for all
    of them); None where there is nothing to look at."""
    releases = {
        id(want): checker.release(observed, mode=want.backend.mode, settings=want.drift)
        if want.lookable(observed)
        else None
        for want, observed in wants
    }
    found = checker.check([r for r in releases.values() if r is not None], prefetched)
    return [
        found.get(release.name) if (release := releases[id(want)]) is not None else None
        for want, _ in wants
    ]


@dataclass(frozen=True)
class Reads:
    """What a look at a namespace reads, started at once so the requests overlap: each mode's
    releases (one list each, from the API server's cache), and the lists of live objects the
    namespace needed last time."""

    releases: Mapping[str, Future[dict[str, ObservedRelease]]]
    objects: Prefetched


def start_reads(parts: EngineParts, namespace: str) -> Reads:
    now = parts.clock()
    return Reads(
        {
            mode: parts.live.submit(
                partial(backend.store.observe_namespace, namespace, now, cached=True)
            )
            for mode, backend in parts.backends.items()
        },
        parts.live.prefetch(namespace),
    )


def desired_for(
    parts: EngineParts, plan: ComponentPlan, quarantined: frozenset[str] = frozenset()
) -> DesiredRelease:
    """The release ``plan`` asks for (a range skips the ``quarantined`` versions). RefusedSpec
    when its complete values may not be installed (:func:`.admission.values_refusal`)."""
    desired = desired_release(
        plan,
        resolver=parts.resolver,
        sources=SecretSources(parts.access, plan.namespace, parts.secret_manager),
        redactor=parts.redactor,
        quarantined=tuple(sorted(quarantined)),
    )
    if problem := values_refusal(desired, allow_templates=parts.allow_templates):
        raise RefusedSpec(problem)
    return desired


def with_archive(parts: EngineParts, desired: DesiredRelease) -> DesiredRelease:
    """``desired`` with the digest of the archive its repository serves for its version now
    (as it was, when the repository cannot say: the next look asks again)."""
    if desired.mode != "helm":
        return desired
    try:
        entry = parts.charts.version(desired.source, desired.version)
    except GunjError:
        return desired
    return replace(desired, archive=entry.digest)


def wanted_components(
    parts: EngineParts,
    recorder: Recorder,
    platform: ObservabilityPlatform | None,
    stored: StoredPlatform,
    *,
    only: str | None = None,
    live: bool = True,
    reads: Reads | None = None,
    archives: bool = False,
) -> list[Wanted]:
    """What each component should be, beside what its releases are now (from the API
    server's cache), in the order to reconcile them (``only``: that component alone). With no
    platform, nothing is wanted and every form gunj made goes. A component switching between
    Helm and native mode is wanted twice: its new form, then (once that is ready) its old form
    removed. With ``live``, what the cluster holds of each release that holds what the spec asks
    for is looked at too (:mod:`.live`); with ``archives``, the repository is asked for the
    digest of each chart version's archive (:func:`with_archive`)."""
    namespace, name = stored.namespace, stored.name
    plans = {plan.component: plan for plan in plan_platform(platform)} if platform else {}
    reads = reads or start_reads(parts, namespace)
    seen = {mode: future.result() for mode, future in reads.releases.items()}
    wanted: list[Wanted] = []
    for component in COMPONENTS if only is None else [only]:
        release = release_name(name, component)
        absent = ObservedRelease(release, namespace, ReleaseState.ABSENT)
        forms = {mode: found.get(release, absent) for mode, found in seen.items()}
        held = held_for(recorder.status.quarantined_versions, component, parts.fleet)
        plan = plans.get(component)
        if plan is None:
            present = [m for m, f in forms.items() if f.state is not ReleaseState.ABSENT]
            if not present:
                recorder.observed_absent(component)
            wanted += [
                Wanted(component, release, forms[m], None, held, parts.backends[m]) for m in present
            ]
            continue
        assert platform is not None  # noqa: S101 - plans come from the platform
        choice = mode_for(parts, platform, plan, forms, held.versions)
        if choice.fallback:
            recorder.fallback(component, choice.fallback)
        plan = replace(plan, mode=choice.mode)
        desired = desired_for(parts, plan, held.versions)
        if archives:
            desired = with_archive(parts, desired)
        drift = drift_settings(plan.spec, platform.spec.global_.drift_detection)
        new = Wanted(
            component,
            release,
            forms[choice.mode],
            desired,
            held,
            parts.backends[choice.mode],
            drift=drift,
        )
        old = "native" if choice.mode == "helm" else "helm"
        switching = forms[old].state is not ReleaseState.ABSENT and owned_by(forms[old], name)
        new = replace(new, switching=switching)
        wanted.append(new)
        if switching:
            old_form = Wanted(
                component, release, forms[old], None, held, parts.backends[old], after=new
            )
            wanted.append(old_form)
    if live:
        states = look_live(parts.live, [(want, want.first) for want in wanted], reads.objects)
        wanted = [replace(w, live=state) for w, state in zip(wanted, states, strict=True)]
    return wanted


def mode_for(
    parts: EngineParts,
    platform: ObservabilityPlatform,
    plan: ComponentPlan,
    forms: dict[str, ObservedRelease],
    quarantined: frozenset[str],
) -> ModeChoice:
    """The mode to make a component in (:func:`.modes.choose_mode`), asking whether Helm can
    make it only when that matters."""

    def helm_problem() -> str | None:
        if missing := parts.settings.missing_helm():
            return missing
        try:
            desired = desired_for(parts, replace(plan, mode="helm"), quarantined)
            parts.charts.pull(desired.source, desired.version)
        except RepositoryUnavailable as error:
            # Only a repository that cannot be reached stands for "Helm cannot make it". A
            # missing Secret, a refused login or a chart that is not there is the spec's or
            # the cluster's to fix: native mode standing in would hide it, so it is raised.
            return parts.redactor(str(error))
        return None

    explicit = spec_mode(platform, plan.spec) is not None
    return choose_mode(
        plan.mode,
        explicit,
        forms,
        helm_problem,
        fallback_allowed=parts.settings.native_fallback,
        component=plan.component,
    )

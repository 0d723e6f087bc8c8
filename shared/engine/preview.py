"""What applying a spec would do to a cluster, without doing it (``gunj plan SPEC --cluster``).

Per component: the action a reconcile would take first (install, upgrade, verify, rollback,
unlock, uninstall) or none and why, the chart version deployed and the one wanted, the values
that would change against what the deployed release holds, and what the values ask of the
cluster that it lacks (:mod:`.prerequisites`: a storage class, a node matching a selector).
Classified and decided by the same code as a reconcile, so the plan cannot disagree with the
apply; but read-only: no Lease, no status write, no Helm process but ``helm template`` (a
version range is resolved from the repository's index, as an apply resolves it). A component
the apply would install or upgrade is rendered to find what it would take that another platform
holds (:mod:`.collisions`): the plan is refused, as the apply would be.

Secrets are never shown. A wanted value that comes from a Secret or Secret Manager
(``valuesFrom``) is shown as a reference to its source. A deployed value is shown only where the
spec the cluster holds gives it: the release may hold an older secret, or one the spec no longer
names, which no redactor knows. Everything shown passes the engine's redactor too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..helm.releases import ReleaseState
from ..values.plan import ComponentPlan, plan_platform
from ..values.problems import format_path
from ..values.spec.common import ValuesFrom
from .admission import size_problem
from .collisions import collision_problem
from .errors import RefusedSpec
from .parts import EngineParts
from .prerequisites import missing_prerequisites
from .record import Recorder
from .resource import StoredPlatform, platform_of, read_platform
from .session import recorder_for
from .sources import SecretSources
from .wanted import Wanted, wanted_components

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from ..redaction import Redactor
    from ..values.spec import ObservabilityPlatform

Location = tuple[int | str, ...]
# A long value (a list of scrape configs, a config file) is cut: the plan says what changes.
SHOWN_LENGTH = 160
HIDDEN = "<not shown: not from the spec>"


@dataclass(frozen=True)
class ValueChange:
    path: str
    change: Literal["added", "removed", "changed"]
    before: str | None = None
    after: str | None = None

    def describe(self) -> str:
        if self.change == "added":
            return f"+ {self.path}: {self.after}"
        if self.change == "removed":
            return f"- {self.path}: {self.before}"
        return f"~ {self.path}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class ComponentPreview:
    component: str
    mode: str
    action: str
    """The first action a reconcile would take, or ``nothing``."""
    outcome: str
    """The component's state as the reconcile would find it (InSync, Progressing, Held, ...)."""
    reason: str
    deployed_version: str | None
    wanted_version: str | None
    changes: list[ValueChange] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    """Each live object that differs from what the release holds, and where (never a value)."""
    not_ready: list[str] = field(default_factory=list)
    """Each workload not ready now, and why."""
    warnings: list[str] = field(default_factory=list)
    """What the wanted values ask of the cluster that it does not have."""

    def to_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "mode": self.mode,
            "action": self.action,
            "outcome": self.outcome,
            "reason": self.reason,
            "deployedVersion": self.deployed_version,
            "wantedVersion": self.wanted_version,
            "changes": [
                {"path": c.path, "change": c.change, "before": c.before, "after": c.after}
                for c in self.changes
            ],
            "drift": self.drift,
            "notReady": self.not_ready,
            "warnings": self.warnings,
        }


def preview(engine: EngineParts, platform: ObservabilityPlatform) -> list[ComponentPreview]:
    """What ``engine.apply(platform)`` would do first to each component. Raises what an apply
    would report as an error (an unreachable cluster, a missing Secret, an oversized object)."""
    namespace, name = platform.metadata.namespace, platform.metadata.name
    stored = read_platform(engine.access, namespace, name) or _not_yet_stored(platform)
    recorder = recorder_for(engine, stored, paused=False, silent=True)
    held = _held_plans(stored)
    previews = []
    for want in wanted_components(engine, recorder, platform, stored):
        if want.after is not None:
            continue  # the old form of a switching component: removed once the new one is ready
        if want.desired is not None and (problem := size_problem(want.desired)):
            raise RefusedSpec(problem)
        found = _component(engine, platform, stored, recorder, want, held=held)
        changes_release = found.action in {"install", "upgrade"}
        if want.backend.mode == "helm" and want.desired is not None and changes_release:
            problem = collision_problem(
                engine.access, engine.helm, engine.charts, want.desired, stored.name
            )
            if problem:
                raise RefusedSpec(engine.redactor(problem))
        previews.append(found)
    return previews


def _component(
    engine: EngineParts,
    platform: ObservabilityPlatform,
    stored: StoredPlatform,
    recorder: Recorder,
    want: Wanted,
    *,
    held: Mapping[str, ComponentPlan],
) -> ComponentPreview:
    record = recorder.component(want.component)
    _, decision = want.judge(
        want.first, record, platform=stored.name, now=engine.clock(), live=want.live
    )
    changes: list[ValueChange] = []
    warnings: list[str] = []
    if want.desired is not None:
        warnings = [
            engine.redactor(w) for w in missing_prerequisites(engine.access, want.desired.values)
        ]
        deployed = _deployed_values(want)
        spec = platform.spec.component(want.component)
        secret_paths = _secret_paths(engine, stored.namespace, spec.values_from if spec else [])
        changes = value_changes(
            deployed,
            want.desired.values,
            secret_paths,
            engine.redactor,
            known=_spec_values(held.get(want.component), want.backend.mode),
        )
    present = want.first.state is not ReleaseState.ABSENT
    return ComponentPreview(
        component=want.component,
        mode=want.backend.mode,
        action=decision.action.value if decision.action is not None else "nothing",
        outcome=decision.outcome,
        reason=engine.redactor(decision.reason),
        deployed_version=want.first.chart_version if present else None,
        wanted_version=want.desired.version if want.desired is not None else None,
        changes=changes,
        drift=[engine.redactor(d.describe()) for d in want.live.drifted] if want.live else [],
        not_ready=[engine.redactor(r) for r in want.live.not_ready] if want.live else [],
        warnings=warnings,
    )


def _deployed_values(want: Wanted) -> Mapping[str, Any]:
    history = want.first.history
    if want.first.state is ReleaseState.ABSENT or not history:
        return {}
    config = history[-1].decode().get("config")
    return config if isinstance(config, dict) else {}


def _held_plans(stored: StoredPlatform) -> dict[str, ComponentPlan]:
    """The plan of each component of the spec the cluster holds (none for a new platform)."""
    if not stored.uid:
        return {}
    try:
        return {plan.component: plan for plan in plan_platform(platform_of(stored))}
    except ValueError:  # a spec this version of gunj reads otherwise
        return {}


def _spec_values(plan: ComponentPlan | None, mode: str) -> Mapping[str, Any]:
    """What the spec the cluster holds gives the component, without its valuesFrom sources.
    A deployed value is shown only where it is this: anyone who can read the platform sees it.
    Anything else the release holds may have come from a Secret since changed or no longer
    named, which nothing here can recognise."""
    if plan is None:
        return {}
    return plan.literal_complete_values([]) if mode == "native" else plan.complete_values([])


def _secret_paths(
    engine: EngineParts, namespace: str, references: Sequence[ValuesFrom]
) -> dict[Location, str]:
    """Each location a secret source sets, with a reference to that source."""
    sources = SecretSources(engine.access, namespace, engine.secret_manager)
    found: dict[Location, str] = {}
    for index, reference in enumerate(references):
        if reference.kind == "ConfigMap":
            continue
        shown = f"<from {reference.describe()}, valuesFrom[{index}]>"
        for layer in sources.values([reference]).layers:
            found |= {location: shown for location, _ in _leaves(layer)}
    return found


def _leaves(node: Any, location: Location = ()) -> Iterator[tuple[Location, Any]]:
    """A document's leaves (scalars, lists and empty mappings), each with its location."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, (*location, str(key)))
    else:
        yield location, node


def _secret_source(location: Location, secret_paths: Mapping[Location, str]) -> str | None:
    """The source of a secret at, above or below ``location``, if any."""
    for secret, shown in secret_paths.items():
        shorter = min(len(secret), len(location))
        if secret[:shorter] == location[:shorter]:
            return shown
    return None


def _shown(value: Any, redactor: Redactor) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = redactor(text)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


def value_changes(
    deployed: Mapping[str, Any],
    wanted: Mapping[str, Any],
    secret_paths: Mapping[Location, str],
    redactor: Redactor,
    *,
    known: Mapping[str, Any],
) -> list[ValueChange]:
    """The leaves that differ between what a release holds and what is wanted, in order. A
    wanted leaf that a secret source sets (or that sits inside one) is shown as the source's
    reference; a deployed leaf only where ``known`` (the spec the cluster holds) gives it."""
    before, after, public = dict(_leaves(deployed)), dict(_leaves(wanted)), dict(_leaves(known))
    changes = []
    for location in sorted(before.keys() | after.keys(), key=_sort_key):
        old, new = before.get(location, _ABSENT), after.get(location, _ABSENT)
        if old == new or not location:
            continue
        secret = _secret_source(location, secret_paths)
        if old is _ABSENT:
            old_text = None
        elif secret or public.get(location, _ABSENT) != old:
            old_text = HIDDEN
        else:
            old_text = _shown(old, redactor)
        new_text = None if new is _ABSENT else secret or _shown(new, redactor)
        kind: Literal["added", "removed", "changed"] = (
            "added" if old is _ABSENT else "removed" if new is _ABSENT else "changed"
        )
        changes.append(ValueChange(format_path(location), kind, old_text, new_text))
    return changes


_ABSENT = object()


def _sort_key(location: Location) -> tuple[str, ...]:
    return tuple(str(part) for part in location)


def _not_yet_stored(platform: ObservabilityPlatform) -> StoredPlatform:
    """A platform the cluster does not have yet: nothing recorded about it."""
    from ..values.spec.status import PlatformStatus

    return StoredPlatform(
        name=platform.metadata.name,
        namespace=platform.metadata.namespace,
        uid="",
        generation=0,
        published_generation=None,
        spec=platform.manifest().get("spec", {}),
        status=PlatformStatus(),
        deleting=False,
    )

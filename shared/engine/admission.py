"""Whether a spec may be applied at all, before any reconcile work: checks that read the spec,
what the cluster holds of the platform and the request, and return why not, or nothing. The
lock-free look (:mod:`.look`) and the apply under the Lease (:mod:`.applying`) make the same
checks, in the same order, through :func:`admit`.

| check | result | when |
|---|---|---|
| stale | ``stale`` | the publisher's generation is older than the one the cluster has |
| templates | ``refused`` | template expressions in the spec where the cluster allows none |
| secrets | ``refused`` | a ``valuesFrom`` Secret Manager version the cluster does not allow |
| duplicate | ``duplicate`` | the same message (id and spec) was applied already |
| values | ``refused`` | a template where the chart runs one; an object outside the namespace |
| sizes | ``refused`` | an object the values would make is larger than the API server accepts |

The values and size checks need the components' desired values (``valuesFrom`` content
included), so the apply makes them separately, before anything is written: every
:class:`~.desired.DesiredRelease` is built through :func:`values_refusal` (a refused one raises
:class:`~.errors.RefusedSpec`), and every install and upgrade checks its size again
(:mod:`.actions.change`), since a ``valuesFrom`` source can grow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ..errors import GunjError
from ..values.limits import oversized_objects
from ..values.manifests import foreign_objects, granted_namespaces
from ..values.plan import ComponentPlan
from ..values.spec import COMPONENTS, ObservabilityPlatform
from ..values.templating import evaluated_expressions, template_expressions
from .desired import DesiredRelease
from .errors import RefusedSpec
from .resource import StoredPlatform

SecretRefusal = Callable[[str], str | None]
"""Why a Secret Manager version (``projects/P/secrets/S/versions/V``) may not be read, or None."""


@dataclass(frozen=True)
class Refusal:
    """Why a spec is not applied (nothing is changed)."""

    result: Literal["stale", "refused", "duplicate"]
    message: str


def spec_digest(platform: ObservabilityPlatform) -> str:
    text = json.dumps(platform.manifest().get("spec", {}), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def spec_changed(
    stored: StoredPlatform, platform: ObservabilityPlatform, generation: int | None
) -> bool:
    """Whether the spec (or the publisher's generation of it) differs from what the cluster
    holds."""
    if stored.spec != platform.manifest().get("spec", {}):
        return True
    return generation is not None and stored.published_generation != generation


def admit(
    platform: ObservabilityPlatform,
    stored: StoredPlatform | None,
    *,
    generation: int | None,
    message_id: str | None,
    allow_templates: bool,
    secrets: SecretRefusal | None = None,
) -> Refusal | None:
    """The first check the spec fails (stale, templates, secrets, duplicate), or None.
    ``secrets``: why the cluster does not let specs read a Secret Manager version (None:
    it lets them read none)."""
    if stored is not None and generation is not None:
        known = stored.published_generation
        if known is not None and generation < known:
            return Refusal(
                "stale",
                f"generation {generation} is older than generation {known}, which the cluster "
                "has; ignored",
            )
    if not allow_templates and (expressions := template_expressions(platform)):
        return Refusal(
            "refused",
            "template expressions are not allowed on this cluster (allowTemplates in its "
            "registry entry): " + "; ".join(str(problem) for problem in expressions),
        )
    if problems := ungranted_secrets(platform, secrets):
        return Refusal("refused", "; ".join(problems))
    if stored is not None and message_id:
        digest = spec_digest(platform)
        if any(
            m.message_id == message_id and m.digest == digest
            for m in stored.status.handled_messages
        ):
            return Refusal("duplicate", f"message {message_id} was applied already")
    return None


def ungranted_secrets(platform: ObservabilityPlatform, secrets: SecretRefusal | None) -> list[str]:
    """Each ``valuesFrom`` Secret Manager version of ``platform`` that ``secrets`` does not
    allow, as ``field: uri: why``."""
    problems = []
    for component in COMPONENTS:
        spec = platform.spec.component(component)
        for index, reference in enumerate(spec.values_from if spec else []):
            if reference.kind != "GoogleSecretManager" or reference.uri is None:
                continue
            version = reference.uri.removeprefix("gcpsm://")
            why = secrets(version) if secrets is not None else "no Secret Manager secret is allowed"
            if why is not None:
                problems.append(f"spec.{component}.valuesFrom[{index}]: {reference.uri}: {why}")
    return problems


def oversized(
    plans: Iterable[ComponentPlan], desired_of: Callable[[ComponentPlan], DesiredRelease]
) -> Refusal | None:
    """An object a component's values would make larger than the API server accepts. A
    component whose values cannot be had yet (a ``valuesFrom`` source missing, a repository out
    of reach) is left to the reconcile, which reports why, and checks its size before it
    installs or upgrades."""
    for plan in plans:
        try:
            desired = desired_of(plan)
        except RefusedSpec as refused:
            return Refusal("refused", str(refused))
        except GunjError:
            continue
        if problem := size_problem(desired):
            return Refusal("refused", problem)
    return None


def size_problem(desired: DesiredRelease) -> str | None:
    """Why ``desired`` cannot be installed for its size, or None."""
    if desired.plan is None:
        return None
    too_large = oversized_objects(desired.plan, desired.values)
    return f"{desired.component}: " + "; ".join(too_large) if too_large else None


def values_refusal(desired: DesiredRelease, *, allow_templates: bool) -> str | None:
    """Why the complete values Helm would get (every layer merged, ``valuesFrom`` content
    included) cannot be installed: a template expression where the chart evaluates values
    (unless the cluster allows templates), or an object the chart would create as written that
    is cluster-scoped or in another namespace. Native mode evaluates nothing and creates only
    its own objects. Names chart value paths, never values."""
    if desired.mode != "helm":
        return None
    values = desired.values
    problems = [
        f"chart value {problem.path}: {problem.message}"
        for problem in foreign_objects(
            desired.component,
            values,
            desired.namespace,
            granted=granted_namespaces(desired.spec),
        )
    ]
    if not allow_templates:
        problems += [
            f"chart value {path}: holds a Helm template expression ('{{{{') where the chart "
            "evaluates values as templates; refused, since the cluster's registry entry does "
            "not allow templates"
            for path in evaluated_expressions(desired.component, values)
        ]
    if not problems:
        return None
    return (
        f"{desired.component}: "
        + "; ".join(problems[:20])
        + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
    )

"""The engine's checks of a release's complete values, run without the cluster where they can be.

Before anything is written, the engine refuses a component whose complete values (every layer
merged, ``valuesFrom`` content included) hold a template expression where the chart evaluates
values (unless the target cluster allows templates), make an object outside the platform's
namespace, or make an object larger than the API server takes (``shared.engine.admission``).
Without the cluster, the same checks run on every layer but ``valuesFrom``, whose content only
the cluster (or Secret Manager) holds: a component that has ``valuesFrom`` gets a note saying
what is left to check, and where.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .limits import oversized_objects
from .manifests import foreign_objects
from .plan import plan_platform
from .problems import Problem
from .spec import ObservabilityPlatform
from .templating import evaluated_expressions


@dataclass
class ReleaseChecks:
    problems: list[Problem] = field(default_factory=list)
    """What apply refuses on any cluster."""
    warnings: list[Problem] = field(default_factory=list)
    """What apply refuses unless the target cluster allows it."""
    notes: list[Problem] = field(default_factory=list)
    """What could not be checked without the cluster."""


def offline_release_checks(platform: ObservabilityPlatform) -> ReleaseChecks:
    """The engine's checks of each enabled component's values, ``valuesFrom`` left out. What
    ``config`` alone holds is reported by validation at its spec path, and not again here."""
    checks = ReleaseChecks()
    for plan in plan_platform(platform):
        base = f"spec.{plan.component}"
        values = plan.values
        for too_large in oversized_objects(plan, values):
            checks.problems.append(Problem(base, too_large))
        if plan.mode == "helm":
            # Native mode evaluates nothing and creates only its own objects.
            in_config = {
                p.path for p in foreign_objects(plan.component, plan.config, plan.namespace)
            }
            for problem in foreign_objects(plan.component, values, plan.namespace):
                if problem.path not in in_config:
                    checks.problems.append(Problem(base, f"chart value {problem}"))
            templates_in_config = set(evaluated_expressions(plan.component, plan.config))
            for path in evaluated_expressions(plan.component, values):
                if path not in templates_in_config:
                    checks.warnings.append(
                        Problem(
                            base,
                            f"chart value {path}: holds a Helm template expression ('{{{{') "
                            "where the chart evaluates values as templates; apply refuses it "
                            "unless the target cluster's registry entry allows templates",
                        )
                    )
        if plan.values_from:
            checks.notes.append(
                Problem(
                    f"{base}.valuesFrom",
                    "read from the cluster at apply: the complete values are checked with "
                    "them there (templates, objects outside the namespace, sizes), and by "
                    "gunj plan --cluster NAME; checked here without them",
                )
            )
    return checks

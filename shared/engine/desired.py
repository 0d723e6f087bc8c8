"""What the spec asks of one component: release, chart, exact version, complete values and
their digest, and the policy that governs changing it.

Building it costs no Helm process and no chart download: the values are built in Python, the
``valuesFrom`` sources are read from the cluster (their content joins the redactor at once), and
a version range is resolved through :mod:`.resolution`'s bounded cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..helm.charts import ChartSource
from ..helm.digest import content_digest
from ..helm.fetch import Credentials
from ..redaction import Redactor
from ..values.plan import ComponentPlan
from ..values.spec.common import ComponentSpec, Mode
from .budget import OperationBudget, operation_budget
from .resolution import VersionResolver
from .sources import SecretSources


@dataclass(frozen=True)
class DesiredRelease:
    component: str
    release: str
    namespace: str
    repository: str
    chart: str
    version: str
    app_version: str
    values: Mapping[str, Any] = field(repr=False)
    digest: str
    budget: OperationBudget
    spec: ComponentSpec = field(repr=False)
    credentials: Credentials | None = field(default=None, repr=False)
    mode: Mode = "helm"
    plan: ComponentPlan | None = field(default=None, repr=False, compare=False)
    """The plan it was built from (for checks of what the values would make)."""
    archive: str = ""
    """The SHA-256 of the chart archive the repository serves for ``version`` now, when it was
    asked (a resync asks: a chart republished under the same version is another chart)."""

    @property
    def source(self) -> ChartSource:
        return ChartSource(self.repository, self.chart, self.credentials)

    @property
    def retries(self) -> int:
        return self.spec.remediation.retries

    @property
    def strategy(self) -> str:
        return self.spec.remediation.strategy

    def describe(self) -> str:
        return f"{self.chart} {self.version}"


def desired_release(
    plan: ComponentPlan,
    *,
    resolver: VersionResolver,
    sources: SecretSources,
    redactor: Redactor,
    quarantined: tuple[str, ...] = (),
) -> DesiredRelease:
    if plan.mode == "native":
        return _native(plan, sources, redactor)
    credentials = None
    reference = plan.spec.chart.credentials_secret_ref if plan.spec.chart else None
    if reference is not None:
        credentials = sources.credentials(reference)
        redactor.add(*credentials.secrets())
    source = ChartSource(plan.repository, plan.chart, credentials)
    # A range skips quarantined versions; an exact version is kept, so the engine can say that
    # it is held rather than silently choosing another.
    resolved = resolver.resolve(source, plan.chart_version, plan.app_version, quarantined)
    layers = sources.values(plan.values_from, field=f"spec.{plan.component}.valuesFrom")
    layers.register(redactor)
    values = plan.complete_values(layers.layers)
    return DesiredRelease(
        component=plan.component,
        release=plan.release,
        namespace=plan.namespace,
        repository=plan.repository,
        chart=plan.chart,
        version=resolved.version,
        app_version=resolved.app_version,
        values=values,
        digest=content_digest(plan.chart, resolved.version, values),
        budget=operation_budget(plan.spec),
        spec=plan.spec,
        credentials=credentials,
        mode="helm",
        plan=plan,
    )


def _native(plan: ComponentPlan, sources: SecretSources, redactor: Redactor) -> DesiredRelease:
    """Native mode: no chart; the renderer and its version stand in for one, and the same
    complete values feed it, so the digest covers what gunj renders."""
    from ..native.render import APP_VERSIONS, RENDERER_VERSION

    layers = sources.values(plan.values_from, field=f"spec.{plan.component}.valuesFrom")
    layers.register(redactor)
    values = plan.literal_complete_values(layers.layers)
    chart = f"native-{plan.component}"
    app_version = plan.app_version or APP_VERSIONS[plan.component]
    # The renderer's version with the app's as build metadata: both change what runs.
    version = f"{RENDERER_VERSION}+{app_version.lstrip('v')}"
    return DesiredRelease(
        component=plan.component,
        release=plan.release,
        namespace=plan.namespace,
        repository="",
        chart=chart,
        version=version,
        app_version=app_version,
        values=values,
        digest=content_digest(chart, version, values),
        budget=operation_budget(plan.spec),
        spec=plan.spec,
        mode="native",
        plan=plan,
    )

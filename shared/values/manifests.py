"""Objects a chart creates from values as they are (``extraObjects``, ``extraManifests``, the
paths ``data/templated.yaml`` marks ``manifests``), and the charts' ``namespaceOverride``: a
spec may create objects in its platform's namespace only.

Helm creates such objects as written, wherever they say, so without this check a spec could
create a ClusterRoleBinding to ``cluster-admin`` or a Deployment in ``kube-system`` with gunj's
credentials. Each object must be of a kind gunj knows to be namespaced (its API group and kind,
below) and name no namespace other than the platform's; anything else, an object gunj cannot
read (a template, text that is not YAML) included, is refused naming its field. A cluster whose
registry entry names a ServiceAccount also judges every object by that account's RBAC.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

import yaml

from .. import yamlio
from .problems import Problem, format_path
from .spec import ObservabilityPlatform
from .templated import templated_charts
from .templating import OPEN, as_helm_reads

NAMESPACED: frozenset[tuple[str, str]] = frozenset(
    [
        *(
            ("", kind)
            for kind in (
                "ConfigMap",
                "Secret",
                "Service",
                "ServiceAccount",
                "Pod",
                "PersistentVolumeClaim",
                "Endpoints",
                "LimitRange",
                "ResourceQuota",
            )
        ),
        *(("apps", kind) for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("policy", "PodDisruptionBudget"),
        ("networking.k8s.io", "Ingress"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("coordination.k8s.io", "Lease"),
        ("discovery.k8s.io", "EndpointSlice"),
        *(
            ("monitoring.coreos.com", kind)
            for kind in (
                "ServiceMonitor",
                "PodMonitor",
                "PrometheusRule",
                "Probe",
                "ScrapeConfig",
                "AlertmanagerConfig",
            )
        ),
        *(
            ("gateway.networking.k8s.io", kind)
            for kind in ("Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant")
        ),
        ("cert-manager.io", "Certificate"),
        ("cert-manager.io", "Issuer"),
        ("external-secrets.io", "ExternalSecret"),
        ("external-secrets.io", "SecretStore"),
        ("autoscaling.k8s.io", "VerticalPodAutoscaler"),
        ("keda.sh", "ScaledObject"),
    ]
)
"""(API group, kind) of the objects a spec may create as they are: namespaced ones only."""

NAMESPACE_OVERRIDE = "namespaceOverride"
RBAC_GROUP = "rbac.authorization.k8s.io"
GRANTABLE: frozenset[tuple[str, str]] = frozenset(
    [(RBAC_GROUP, "Role"), (RBAC_GROUP, "RoleBinding")]
)
"""What a platform may create in a namespace its spec names for discovery
(``spec.prometheus.discovery.namespaces``): the server's Role and RoleBinding there."""


def granted_namespaces(spec: object) -> tuple[str, ...]:
    """The namespaces besides its own that a component's spec names for its RBAC."""
    discovery = getattr(spec, "discovery", None)
    return tuple(getattr(discovery, "namespaces", ()) or ())


def _at(values: Any, tokens: tuple[str, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """The nodes at ``tokens`` (``*``: any key) with their locations."""
    if not tokens:
        yield (), values
        return
    if not isinstance(values, Mapping):
        return
    head, rest = tokens[0], tokens[1:]
    for key, value in values.items():
        if head in ("*", key):
            for location, node in _at(value, rest):
                yield (key, *location), node


def _items(node: Any) -> Iterator[tuple[str | int, Any]]:
    """The objects of a manifests value: a list, or a map's values (loki takes both)."""
    if isinstance(node, list):
        yield from enumerate(node)
    elif isinstance(node, Mapping):
        yield from node.items()


def _documents(item: Any) -> list[Any] | str:
    """The objects one item makes, or why gunj cannot tell."""
    if not isinstance(item, str):
        return [item]
    if OPEN in item:
        return "is a template: which objects it makes is known only once it runs"
    try:
        return [doc for doc in yamlio.safe_load_all(item) if doc is not None]
    except yaml.YAMLError:
        return "is not YAML that gunj can read"


def _object_problem(document: Any, namespace: str, granted: Collection[str]) -> str | None:
    if not isinstance(document, Mapping) or not isinstance(document.get("kind"), str):
        return "is not a Kubernetes object (a map with apiVersion and kind)"
    api_version = str(document.get("apiVersion", ""))
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    kind = document["kind"]
    if (group, kind) not in NAMESPACED:
        return (
            f"makes a {kind} ({api_version}), which is cluster-scoped or not known to gunj to "
            "be namespaced; a platform may create objects in its own namespace only"
        )
    metadata = document.get("metadata")
    other = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    if other not in (None, "", namespace) and not (other in granted and (group, kind) in GRANTABLE):
        return (
            f"makes a {kind} in namespace {other!r}; a platform may create objects in its own "
            f"namespace ({namespace!r}) only"
        )
    return None


def _overrides(
    node: Any, location: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == NAMESPACE_OVERRIDE:
                yield (*location, key), value
            yield from _overrides(value, (*location, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _overrides(item, (*location, index))


def foreign_objects(
    component: str,
    values: Mapping[str, Any],
    namespace: str,
    prefix: tuple[str | int, ...] = (),
    granted: Collection[str] = (),
) -> list[Problem]:
    """Every object the chart would create from ``values`` as written that is cluster-scoped
    (or of a kind gunj does not know) or in another namespace than ``namespace`` (a Role or
    RoleBinding may also be in one of ``granted``, the namespaces the spec names for the
    component's discovery), and every ``namespaceOverride`` that moves the chart's objects
    elsewhere; named by field."""
    chart = templated_charts().get(component)
    readable = as_helm_reads(values)
    problems = []
    for path in chart.paths if chart else ():
        if not path.manifests:
            continue
        for location, node in _at(readable, path.tokens[:-1] if path.subtree else path.tokens):
            for index, item in _items(node):
                where = (*prefix, *location, index)
                documents = _documents(item)
                if isinstance(documents, str):
                    problems.append(Problem(format_path(where), documents))
                    continue
                for document in documents:
                    if why := _object_problem(document, namespace, granted):
                        problems.append(Problem(format_path(where), why))
                        break
    for location, value in _overrides(readable, prefix):
        if value not in (None, "", namespace):
            problems.append(
                Problem(
                    format_path(location),
                    f"moves the chart's objects to namespace {value!r}; a platform's objects "
                    f"stay in its own namespace ({namespace!r})",
                )
            )
    return problems


def config_foreign_objects(platform: ObservabilityPlatform) -> list[Problem]:
    """:func:`foreign_objects` of each component's ``config`` (the engine checks the complete
    values, ``valuesFrom`` content included, again before anything is installed)."""
    problems = []
    for component in platform.spec.enabled():
        spec = platform.spec.component(component)
        if spec is not None and spec.config:
            prefix = ("spec", component, "config")
            problems += foreign_objects(
                component,
                spec.config,
                platform.metadata.namespace,
                prefix,
                granted_namespaces(spec),
            )
    return problems

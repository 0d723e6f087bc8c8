"""Names and labels of native objects.

Services carry the Helm charts' names, so everything that reaches a component by its Service
(Grafana's datasources, Tempo's remote write, people's dashboards) works the same in both modes.
Every other object is ``<release>-native[-<part>]``, so a native object never has a Helm
release's name; cluster-scoped ones are ``<namespace>:<release>-native``, as releases are per
namespace. Neither a namespace nor a release name can hold ``:``, so two platforms never share
one (``team-a`` and ``x`` would collide with ``team`` and ``a-x`` if joined by ``-``).

Native Services select pods by ``gunj.io/native-instance`` alone. Helm's Services select by
``app.kubernetes.io/instance`` (with name and component), which native pods never carry: during
a switch between modes neither form's Service sends traffic to the other's pods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...labels import (
    APP_COMPONENT_LABEL,
    APP_INSTANCE_LABEL,
    APP_MANAGED_BY_LABEL,
    APP_NAME_LABEL,
    NATIVE_INSTANCE_LABEL,
)

MANAGED_BY = "gunj"


@dataclass(frozen=True)
class Target:
    """Where and as what a component is rendered."""

    component: str
    release: str
    namespace: str
    labels: Mapping[str, str]

    def native(self, part: str = "") -> str:
        """The name of a native object (workload, ConfigMap, ServiceAccount, ...)."""
        return f"{self.release}-native-{part}" if part else f"{self.release}-native"

    @property
    def cluster_wide(self) -> str:
        """The name of a cluster-scoped object: unique across namespaces (``:`` is in neither
        a namespace's name nor a release's, so the two parts are read back unambiguously)."""
        return f"{self.namespace}:{self.release}-native"

    def object_labels(self, part: str) -> dict[str, str]:
        """The given labels, and what the object is (these three always win)."""
        return {
            **self.labels,
            APP_NAME_LABEL: self.component,
            APP_COMPONENT_LABEL: part,
            APP_MANAGED_BY_LABEL: MANAGED_BY,
        }

    def pod_labels(self, part: str) -> dict[str, str]:
        """A pod's labels: the object's, less Helm's instance label (with it, the Helm chart's
        Service could select native pods), and the label native Services select by."""
        labels = self.object_labels(part)
        labels.pop(APP_INSTANCE_LABEL, None)
        return {**labels, **self.selector}

    @property
    def selector(self) -> dict[str, str]:
        return {NATIVE_INSTANCE_LABEL: self.release}

"""What a component's values ask of the cluster that the cluster does not have, told before an
apply (``gunj plan --cluster``): a storage class that does not exist (a claim naming it never
binds), a node selector no node's labels meet (its pods are never scheduled). An apply would find
the same once its pods are pending (:mod:`.verification.watch`); the plan says it first.

Values are the chart's (or native mode's) complete values, so the names are found where charts
keep them: any ``storageClass`` or ``storageClassName`` that is a name (``-`` is Helm charts'
word for "none"), any ``nodeSelector`` mapping. A part of the values switched off
(``enabled: false`` beside it) asks for nothing. Reads the API server refuses are skipped: these
are warnings, never a verdict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..kube import ClusterAccess
from ..kube.errors import ApiError
from ..kube.resources import Kind
from ..values.problems import format_path

_STORAGE_CLASSES = Kind("storage.k8s.io/v1", "StorageClass", "storageclasses", False)
_NODES = Kind("v1", "Node", "nodes", False)
_STORAGE_KEYS = frozenset({"storageClass", "storageClassName"})
Location = tuple[int | str, ...]


def _asked(node: Any, location: Location = ()) -> Iterator[tuple[Location, str, Any]]:
    """(location, key, value) of every storage class and node selector the values ask for."""
    if isinstance(node, Mapping):
        if node.get("enabled") is False:
            return
        for key, value in node.items():
            here = (*location, str(key))
            if key in _STORAGE_KEYS and isinstance(value, str) and value not in {"", "-"}:
                yield here, "storageClass", value
            elif key == "nodeSelector" and isinstance(value, Mapping) and value:
                yield here, "nodeSelector", {str(k): str(v) for k, v in value.items()}
            else:
                yield from _asked(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _asked(item, (*location, index))


def missing_prerequisites(access: ClusterAccess, values: Mapping[str, Any]) -> list[str]:
    """A warning for each storage class and node selector in ``values`` the cluster lacks."""
    warnings: list[str] = []
    nodes: list[dict[str, Any]] | None = None
    classes: dict[str, bool] = {}
    for location, kind, value in _asked(values):
        where = format_path(location)
        try:
            if kind == "storageClass":
                if value not in classes:
                    classes[value] = access.resources.get(_STORAGE_CLASSES, None, value) is not None
                if not classes[value]:
                    warnings.append(
                        f'{where}: storage class "{value}" does not exist on the cluster; '
                        "a claim naming it would never bind"
                    )
                continue
            if nodes is None:
                nodes = access.resources.list(_NODES, None)
        except ApiError:
            continue
        if not any(_matches(node, value) for node in nodes):
            labels = ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
            warnings.append(
                f"{where}: no node of the cluster has the labels {labels}; "
                "its pods would never be scheduled"
            )
    return warnings


def _matches(node: Mapping[str, Any], selector: Mapping[str, str]) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return all(labels.get(key) == value for key, value in selector.items())

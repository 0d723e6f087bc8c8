"""Drift corrected: each drifted or missing object applied again by server-side apply, as the
release's own field manager (``helm``, or ``gunj`` for native mode), from what the release's
current revision holds. No Helm upgrade and no new revision: the release's record is already
right, and a new revision would stand for a change of the spec's (a rollback target, the start
of a bake window). Fields the spec ignores, and fields another controller owns (an HPA's
replicas), are left as they are: an ignored field only the release's manager holds keeps its
live value, any other is left out of what is applied.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ...kube import ClusterAccess
from .check import LiveChecker, ReleaseObjects
from .manifest import DesiredObject
from .owners import owners
from .paths import Path, value_at
from .state import DriftedObject


def correct(
    checker: LiveChecker, release: ReleaseObjects, drifted: Sequence[DriftedObject]
) -> list[str]:
    """Apply each of ``drifted`` again; what was done, one line each. Raises the API error of
    the first object the API server refuses (those before it are applied)."""
    access: ClusterAccess = checker.access
    desired = {obj.key: obj for obj in release.objects}
    done = []
    try:
        for drift in drifted:
            body = _body(access, desired[drift.key], drift, release.manager)
            kind = access.resources.kind(drift.key.api_version, drift.key.kind)
            access.resources.apply(kind, drift.key.namespace, body, manager=release.manager)
            done.append(
                f"{drift.key.describe()} created again"
                if drift.change == "missing"
                else f"{drift.key.describe()} restored at {', '.join(drift.paths)}"
            )
    finally:
        checker.forget(release.name, [d.key for d in drifted])
    return done


def _body(
    access: ClusterAccess, desired: DesiredObject, drift: DriftedObject, manager: str
) -> dict[str, Any]:
    body = copy.deepcopy(dict(desired.body))
    if not drift.kept:
        return body
    kind = access.resources.kind(desired.key.api_version, desired.key.kind)
    live = access.resources.get(kind, desired.key.namespace, desired.key.name) or {}
    managed = (live.get("metadata") or {}).get("managedFields") or []
    for path in drift.kept:
        held = owners(managed, path, live)
        if held <= {manager} and (value := value_at(live, path)) is not None:
            _put(body, path, value)  # only ours: keep it as it is, and keep it ours
        else:
            _drop(body, path)  # another's, or nobody's: not ours to set
    return body


def _put(body: Any, path: Path, value: Any) -> None:
    node = body
    for step in path[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or not 0 <= step < len(node):
                return
            node = node[step]
        else:
            if not isinstance(node, dict):
                return
            node = node.setdefault(step, {})
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
        return
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        node[last] = value


def _drop(body: Any, path: Path) -> None:
    node = body
    for step in path[:-1]:
        node = value_at(node, (step,))
        if node is None:
            return
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node.pop(last, None)

"""One look at the live objects of a platform's releases.

1. The objects each release's current revision holds (:mod:`.manifest`, parsed once per
   revision).
2. One list per kind and namespace, of the objects Helm or native mode made (the label
   ``app.kubernetes.io/managed-by`` in ``Helm, gunj``), as a consistent read: the API server
   serves it from its watch cache once the cache has caught up with the store, so an object
   deleted or a workload made ready a moment ago is seen as it is (a list at resourceVersion 0
   is answered at once but may be that moment old: a busy server then shows a deleted
   Deployment still there, or a workload just verified as not ready). An object the list lacks
   is read by name before it is called missing (it may have lost the label).
3. An object found as it should be is remembered by what would change if it changed (its uid,
   its generation or, for kinds without one, its resourceVersion, its labels and annotations,
   and what the release asks of it). While those stay the same, it is not compared again: the
   look costs the lists alone. Otherwise the API server is asked what the object would be once
   the release's manager applied it again (a server-side dry run), and the fields that would
   change (:mod:`.paths`) are drift unless the spec ignores them or another controller owns
   them (:mod:`.owners`).
4. The release's workloads are judged ready or not from the same lists, and for one that is
   not, its first unready pod says why (the scheduler's message, an image that cannot be
   pulled).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ...helm.releases import ObservedRelease, ReleaseState
from ...kube import ClusterAccess
from ...kube.errors import ApiError, ApiUnavailable
from ...kube.keys import ObjectKey
from ...kube.resources import Kind, UnknownKind
from ...labels import APP_MANAGED_BY_LABEL
from ..verification.workloads import KINDS as WORKLOAD_KINDS
from ..verification.workloads import held_by, not_ready
from .ignore import DriftSettings
from .manifest import HELM_MANAGER, NATIVE_MANAGER, DesiredObject, ManifestCache
from .owners import is_drift, owners
from .paths import differences, readable
from .state import DriftedObject, LiveState

SELECTOR = f"{APP_MANAGED_BY_LABEL} in (Helm,gunj)"
WORKERS = 8
T = TypeVar("T")
Where = tuple[Kind, str | None]
"""A kind, in a namespace (None: cluster-scoped)."""
Prefetched = dict[Where, "Future[list[dict[str, Any]]]"]


@dataclass(frozen=True)
class ReleaseObjects:
    """One release to look at."""

    name: str
    manager: str
    """The field manager that applies it (Helm's, or native mode's)."""
    objects: Sequence[DesiredObject]
    settings: DriftSettings


@dataclass
class _Look:
    """What one look reads, shared by the platform's releases."""

    live: dict[ObjectKey, dict[str, Any] | None] = field(default_factory=dict)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def counted(self, requests: int = 1) -> None:
        with self.lock:
            self.requests += requests


class LiveChecker:
    """Looks at live objects in one cluster; one per cluster and process, so what it found as it
    should be is remembered from one look to the next."""

    def __init__(self, access: ClusterAccess) -> None:
        self.access = access
        self.manifests = ManifestCache()
        self._clean: dict[tuple[str, ObjectKey], tuple[Any, ...]] = {}
        self._lock = threading.Lock()
        # Kept for the process: starting threads on every look would cost more than the lists.
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="live-check")
        self._lists: dict[str, tuple[Where, ...]] = {}
        """The lists the last look at each namespace needed."""
        self.requests = 0
        """API requests made by looks so far (read by the benchmarks)."""

    def namespaced(self, api_version: str, kind: str) -> bool | None:
        try:
            return self.access.resources.kind(api_version, kind).namespaced
        except UnknownKind:
            return None

    def release(
        self, observed: ObservedRelease, *, mode: str, settings: DriftSettings
    ) -> ReleaseObjects | None:
        """What ``observed``'s current revision holds, to look at (None: nothing deployed)."""
        if observed.state is not ReleaseState.DEPLOYED or not observed.history:
            return None
        current = observed.history[-1]
        helm = mode == "helm"
        objects = self.manifests.objects(
            (observed.namespace, observed.name, mode, current.secret, str(observed.deployed_at)),
            lambda: str(current.decode().get("manifest") or ""),
            observed.namespace,
            self.namespaced,
            helm_release=observed.name if helm else None,
        )
        return ReleaseObjects(
            observed.name, HELM_MANAGER if helm else NATIVE_MANAGER, objects, settings
        )

    def prefetch(self, namespace: str) -> Prefetched:
        """Start the lists a look at ``namespace`` needed last time, so they run while the
        releases are read (:meth:`check` takes what it needs from them)."""
        with self._lock:
            wanted = self._lists.get(namespace, ())
        return {where: self._pool.submit(self._listed, where) for where in wanted}

    def submit(self, call: Callable[[], T]) -> Future[T]:
        """Run ``call`` on the checker's threads (a read that may overlap others)."""
        return self._pool.submit(call)

    def check(
        self, releases: Sequence[ReleaseObjects], prefetched: Prefetched | None = None
    ) -> dict[str, LiveState]:
        """The live state of each release (by name)."""
        look = _Look()
        self._read(look, [o for r in releases for o in r.objects], prefetched or {})
        states = {}
        compared = {
            release.name: self._pool.map(
                lambda o, r=release: self._compare(look, r, o), release.objects
            )
            for release in releases
        }
        for release in releases:
            results = list(compared[release.name])
            states[release.name] = LiveState(
                drifted=tuple(d for d, _ in results if d is not None),
                not_ready=self._not_ready(look, release),
                unchecked=tuple(u for _, u in results if u),
                objects=len(release.objects),
            )
        with self._lock:  # looks of components reconciled at the same time
            self.requests += look.requests
        return states

    def forget(self, release: str, keys: Iterable[ObjectKey]) -> None:
        """Compare these objects again at the next look (they were just applied)."""
        with self._lock:
            for key in keys:
                self._clean.pop((release, key), None)

    # --- reading -------------------------------------------------------------------------------

    def _listed(self, where: Where) -> list[dict[str, Any]]:
        return self.access.resources.list(where[0], where[1], SELECTOR)

    def _read(self, look: _Look, objects: Sequence[DesiredObject], prefetched: Prefetched) -> None:
        lists: dict[Where, Future[list[dict[str, Any]]]] = {}
        for obj in objects:
            kind = self.access.resources.kind(obj.key.api_version, obj.key.kind)
            where = (kind, obj.key.namespace)
            if where not in lists:
                lists[where] = prefetched.get(where) or self._pool.submit(self._listed, where)
        namespaces = {namespace for _, namespace in lists if namespace is not None}
        with self._lock:
            for namespace in namespaces:
                self._lists[namespace] = tuple(lists)
        resources = self.access.resources
        for (kind, _), future in lists.items():
            look.requests += 1
            for item in future.result():
                metadata = item.get("metadata") or {}
                scope = metadata.get("namespace") if kind.namespaced else None
                key = ObjectKey(kind.api_version, kind.kind, scope, metadata.get("name", ""))
                look.live[key] = item
        for obj in objects:
            if obj.key not in look.live:
                # Not listed: missing, or without the label the list selects by.
                kind = resources.kind(obj.key.api_version, obj.key.kind)
                look.live[obj.key] = resources.get(kind, obj.key.namespace, obj.key.name)
                look.requests += 1

    # --- comparing -----------------------------------------------------------------------------

    def _compare(
        self, look: _Look, release: ReleaseObjects, desired: DesiredObject
    ) -> tuple[DriftedObject | None, str]:
        if release.settings.mode == "disabled":
            return None, ""
        live = look.live.get(desired.key)
        if live is None:
            return DriftedObject(desired.key, "missing"), ""
        stamp = _stamp(live, desired)
        with self._lock:
            if self._clean.get((release.name, desired.key)) == stamp:
                return None, ""
        kind = self.access.resources.kind(desired.key.api_version, desired.key.kind)
        try:
            applied = self.access.resources.apply(
                kind, desired.key.namespace, desired.body, manager=release.manager, dry_run=True
            )
        except ApiUnavailable:
            raise
        except ApiError as error:
            return None, f"{desired.key.describe()} could not be compared: {error}"
        finally:
            look.counted()
        drift, kept = [], []
        managed = (live.get("metadata") or {}).get("managedFields") or []
        for path in differences(live, applied):
            ignored = release.settings.ignored(desired.key, path)
            if not ignored and is_drift(owners(managed, path, live), release.manager):
                drift.append(readable(path, live, applied))
            else:
                kept.append(path)
        if not drift:
            with self._lock:
                self._clean[(release.name, desired.key)] = stamp
            return None, ""
        return DriftedObject(desired.key, "changed", tuple(drift), tuple(kept)), ""

    def _not_ready(self, look: _Look, release: ReleaseObjects) -> tuple[str, ...]:
        found = []
        for desired in release.objects:
            if desired.key.kind not in WORKLOAD_KINDS or desired.key.namespace is None:
                continue
            live = look.live.get(desired.key)
            if live is None and release.settings.mode != "disabled":
                continue  # missing: drift says so
            why = not_ready(desired.key.kind, live)
            if why is None:
                continue
            held = ""
            if live is not None:
                held = held_by(self.access, desired.key.namespace, live)
                look.counted()
            found.append(f"{desired.key.describe()}: {why}{held}")
        return tuple(found)


def _stamp(live: Mapping[str, Any], desired: DesiredObject) -> tuple[Any, ...]:
    metadata = live.get("metadata") or {}
    marks = json.dumps(
        [metadata.get("labels") or {}, metadata.get("annotations") or {}], sort_keys=True
    )
    version = metadata.get("generation") or metadata.get("resourceVersion")
    return (
        metadata.get("uid"),
        version,
        hashlib.sha256(marks.encode()).hexdigest(),
        desired.fingerprint,
    )

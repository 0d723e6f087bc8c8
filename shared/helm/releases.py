"""Release state, read from Helm's own storage (one Secret per revision) through the Kubernetes
API: cheaper than a Helm process, and the same for Helm 3 and Helm 4.

A release is absent, locked (an install, upgrade, rollback or uninstall is pending, for this
long), failed, or deployed (tested at this revision or not). The last good revision is the
newest that was deployed and whose tests passed while it was current. A lock left behind by a
Helm process that died (the most reported Helm failure: "another operation is in progress") is
released by marking that revision failed, with an optimistic-concurrency update so a Helm that
is in fact still running wins the race.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from kubernetes import client

from ..kube import ClusterAccess
from ..timestamps import parse_time
from .models import ReleaseStatus

DIGEST_LABEL = "gunj.io/desired"
_GZIP_MAGIC = b"\x1f\x8b"


class ReleaseState(StrEnum):
    ABSENT = "absent"
    LOCKED = "locked"
    FAILED = "failed"
    DEPLOYED = "deployed"


@dataclass(frozen=True)
class StoredRevision:
    """One revision as Helm stores it: a Secret ``sh.helm.release.v1.<name>.v<revision>``."""

    release: str
    namespace: str
    revision: int
    status: ReleaseStatus
    modified: datetime | None
    desired_digest: str | None
    secret: str
    resource_version: str
    payload: str = field(repr=False)
    """The Secret's data value: base64 of Helm's own encoding (base64 of gzipped JSON)."""

    def decode(self) -> dict[str, Any]:
        raw = base64.b64decode(base64.b64decode(self.payload))
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
        decoded: dict[str, Any] = json.loads(raw)
        return decoded


def encode(release: dict[str, Any]) -> str:
    """A release as a Secret data value (the inverse of :meth:`StoredRevision.decode`)."""
    helm_encoded = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return base64.b64encode(helm_encoded).decode()


def _test_hooks(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        h
        for h in release.get("hooks") or []
        if {"test", "test-success"} & set(h.get("events") or [])
    ]


def passed_tests_since_deployed(release: dict[str, Any]) -> bool:
    """All tests passed since this revision was deployed (a rollback copies the hooks' last runs
    from the revision it restores, so a run older than the deployment does not count)."""
    hooks = _test_hooks(release)
    if not hooks:
        return True
    deployed = parse_time((release.get("info") or {}).get("last_deployed"))
    for hook in hooks:
        run = hook.get("last_run") or {}
        started = parse_time(run.get("started_at"))
        if run.get("phase") != "Succeeded" or started is None:
            return False
        if deployed and started < deployed:
            return False
    return True


@dataclass(frozen=True)
class ObservedRelease:
    name: str
    namespace: str
    state: ReleaseState
    status: ReleaseStatus | None = None
    revision: int | None = None
    chart: str | None = None
    chart_version: str | None = None
    app_version: str | None = None
    desired_digest: str | None = None
    tested: bool = False
    has_tests: bool = False
    locked_for: timedelta | None = None
    last_good_revision: int | None = None
    first_install: bool = False


class ReleaseStore:
    def __init__(self, access: ClusterAccess) -> None:
        self.access = access

    def revisions(self, name: str, namespace: str) -> list[StoredRevision]:
        secrets = self.access.core.list_namespaced_secret(
            namespace, label_selector=f"owner=helm,name={name}"
        ).items
        revisions = []
        for secret in secrets:
            metadata = secret.metadata
            if metadata is None or not metadata.name:
                continue
            labels = metadata.labels or {}
            modified = labels.get("modifiedAt")
            revisions.append(
                StoredRevision(
                    release=name,
                    namespace=namespace,
                    revision=int(labels.get("version", 0)),
                    status=ReleaseStatus(labels.get("status", "unknown")),
                    modified=datetime.fromtimestamp(int(modified), UTC) if modified else None,
                    desired_digest=labels.get(DIGEST_LABEL),
                    secret=metadata.name,
                    resource_version=metadata.resource_version or "",
                    payload=str((secret.data or {}).get("release", "")),
                )
            )
        return sorted(revisions, key=lambda r: r.revision)

    def observe(self, name: str, namespace: str, now: datetime | None = None) -> ObservedRelease:
        now = now or datetime.now(UTC)
        history = self.revisions(name, namespace)
        if not history or history[-1].status is ReleaseStatus.UNINSTALLED:
            return ObservedRelease(name, namespace, ReleaseState.ABSENT)
        current = history[-1]
        release = current.decode()
        metadata = (release.get("chart") or {}).get("metadata") or {}
        state = {
            ReleaseStatus.DEPLOYED: ReleaseState.DEPLOYED,
            ReleaseStatus.FAILED: ReleaseState.FAILED,
        }.get(
            current.status,
            ReleaseState.LOCKED
            if current.status.pending or current.status is ReleaseStatus.UNINSTALLING
            else ReleaseState.FAILED,
        )
        since = current.modified or parse_time((release.get("info") or {}).get("last_deployed"))
        return ObservedRelease(
            name=name,
            namespace=namespace,
            state=state,
            status=current.status,
            revision=current.revision,
            chart=metadata.get("name"),
            chart_version=metadata.get("version"),
            app_version=metadata.get("appVersion"),
            desired_digest=current.desired_digest,
            tested=state is ReleaseState.DEPLOYED and passed_tests_since_deployed(release),
            has_tests=bool(_test_hooks(release)),
            locked_for=(now - since) if state is ReleaseState.LOCKED and since else None,
            last_good_revision=self._last_good(history),
            first_install=not any(
                r.status in {ReleaseStatus.DEPLOYED, ReleaseStatus.SUPERSEDED} for r in history
            ),
        )

    def _last_good(self, history: list[StoredRevision]) -> int | None:
        for revision in reversed(history):
            if revision.status not in {ReleaseStatus.DEPLOYED, ReleaseStatus.SUPERSEDED}:
                continue
            if passed_tests_since_deployed(revision.decode()):
                return revision.revision
        return None

    def last_good_revision(self, name: str, namespace: str) -> int | None:
        return self._last_good(self.revisions(name, namespace))

    def unlock(
        self, name: str, namespace: str, *, older_than: timedelta, now: datetime | None = None
    ) -> StoredRevision | None:
        """Mark a pending revision failed when it has been pending longer than ``older_than``
        (its operation's timeout: a live Helm would have given up by then). Returns the revision
        unlocked, or None when there was nothing to do. Raises ApiException 409 when a Helm
        process updated the revision meanwhile (it is alive after all)."""
        now = now or datetime.now(UTC)
        history = self.revisions(name, namespace)
        if not history:
            return None
        current = history[-1]
        if not (current.status.pending or current.status is ReleaseStatus.UNINSTALLING):
            return None
        release = current.decode()
        since = current.modified or parse_time((release.get("info") or {}).get("last_deployed"))
        if since is not None and now - since < older_than:
            return None
        age = f"{int((now - since).total_seconds())}s" if since else "an unknown time"
        release.setdefault("info", {})
        release["info"]["status"] = ReleaseStatus.FAILED.value
        release["info"]["description"] = (
            f"gunj: {current.status.value} left for {age} by a Helm process that did not finish; "
            "marked failed"
        )
        body = client.V1Secret(
            metadata=client.V1ObjectMeta(
                name=current.secret,
                resource_version=current.resource_version,
                labels={
                    "status": ReleaseStatus.FAILED.value,
                    "modifiedAt": str(int(now.timestamp())),
                },
            ),
            data={"release": encode(release)},
        )
        self.access.core.patch_namespaced_secret(current.secret, namespace, body)
        return current

"""Release state, read from Helm's own storage (one Secret per revision) through the Kubernetes
API: cheaper than a Helm process, and the same for Helm 3 and Helm 4. One list call reads every
release of a namespace.

A release is absent, locked (an install, upgrade, rollback or uninstall is pending, for this
long), failed, or deployed (tested at this revision or not). What the current revision really
holds (chart, version, values) is digested from its decoded payload (:mod:`.digest`), not taken
from a label. The last good revision by Helm's own account is the newest that was deployed and
whose tests passed while it was current. A lock left behind by a Helm process that died (the most
reported Helm failure: "another operation is in progress") is released by marking that revision
failed, with an optimistic-concurrency update so a Helm that is in fact still running wins the
race.

A pending revision written by gunj carries the moment after which its Helm process cannot still
run (:data:`shared.labels.DEADLINE_LABEL`). Helm 4 copies labels to the next revision, so a
deadline is believed only when it lies after the revision was created and no earlier revision
carries it: one carried over from an older revision is ignored.

It also names the Helm process that wrote it (:data:`shared.labels.RUNNER_LABEL`,
:mod:`.runner`). When that process ran on this machine and has exited, nothing can finish the
operation any more, and the lock is stale at once, whatever its deadline. That label is believed
only when no earlier revision carries it: one copied forward from an older revision names
another operation's process.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import logging
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from kubernetes import client

from ..errors import GunjError
from ..kube import ClusterAccess
from ..kube.errors import ApiConflict
from ..kube.resources import KNOWN_KINDS
from ..labels import DEADLINE_LABEL, DIGEST_LABEL, RUNNER_LABEL
from ..timestamps import parse_time
from .digest import content_digest
from .models import ReleaseStatus
from .runner import Runner

log = logging.getLogger(__name__)

# Labels Helm's storage driver sets itself; the rest are the release's own (``--labels``).
SYSTEM_LABELS = frozenset({"name", "owner", "status", "version", "createdAt", "modifiedAt"})
# A recorded deadline further than this after the revision's creation is not one gunj wrote.
LONGEST_OPERATION = timedelta(hours=6)
_GZIP_MAGIC = b"\x1f\x8b"
_SECRETS = KNOWN_KINDS[("v1", "Secret")]


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
    secret: str
    resource_version: str
    payload: str = field(repr=False)
    """The Secret's data value: base64 of Helm's own encoding (base64 of gzipped JSON)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The release's own labels (Helm's storage labels left out)."""

    @property
    def desired_digest(self) -> str | None:
        """The digest gunj stamped when it made a revision (a hint: labels can be carried
        over by Helm; :attr:`ObservedRelease.content_digest` is the proof)."""
        return self.labels.get(DIGEST_LABEL)

    def decode(self) -> dict[str, Any]:
        """The release as Helm stored it; :class:`ReleaseUnreadable` when the payload is not
        one, or would take more than :data:`MAX_DECODED_BYTES` once decompressed."""
        try:
            raw = base64.b64decode(base64.b64decode(self.payload, validate=True), validate=True)
            if raw[:2] == _GZIP_MAGIC:
                raw = _decompressed(raw, MAX_DECODED_BYTES)
            decoded: Any = json.loads(raw)
        except _TooLarge:
            raise self._unreadable(
                f"its payload decompresses to more than {MAX_DECODED_BYTES // 2**20} MiB, the "
                "most gunj reads of one revision"
            ) from None
        except (ValueError, EOFError, OSError, RecursionError, zlib.error):
            # binascii.Error and JSONDecodeError are ValueErrors; gzip raises the rest.
            raise self._unreadable("its payload is not a release Helm wrote") from None
        if not isinstance(decoded, dict):
            raise self._unreadable("its payload is not a release Helm wrote")
        return decoded

    def _unreadable(self, why: str) -> ReleaseUnreadable:
        return ReleaseUnreadable(
            f"release {self.release} revision {self.revision} (Secret {self.secret} in "
            f"{self.namespace}) cannot be read: {why}"
        )


# Helm keeps a revision in one Secret (1 MiB at most), so its gzipped JSON is under 600 KiB; the
# largest charts' revisions (chart files, values and manifest) decompress to a few MiB. Four
# times that is room enough, and small against what a forged Secret could otherwise decompress
# to (a gzip stream of 600 KiB may hold 600 MiB).
MAX_DECODED_BYTES = 16 * 2**20
_CHUNK = 64 * 1024


class ReleaseUnreadable(GunjError):
    """A revision's Secret holds no release gunj can read (forged, damaged, or too large once
    decompressed): a problem of that release, reported, not retried."""


class _TooLarge(Exception):
    pass


def _decompressed(compressed: bytes, limit: int) -> bytes:
    """``compressed`` (gzip) decompressed, never holding more than ``limit`` bytes of it."""
    stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    data = compressed
    while not stream.eof:
        part = stream.decompress(data, _CHUNK)
        data = stream.unconsumed_tail
        if not part and not data:
            break  # nothing more comes of it: the stream was cut short
        size += len(part)
        if size > limit:
            raise _TooLarge
        parts.append(part)
    if not stream.eof:
        raise EOFError("the gzip stream ends early")
    return b"".join(parts)


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


def stored_content_digest(release: Mapping[str, Any]) -> str:
    """The digest of what a decoded release holds: its chart, version and values."""
    metadata = (release.get("chart") or {}).get("metadata") or {}
    return content_digest(
        str(metadata.get("name", "")), str(metadata.get("version", "")), release.get("config") or {}
    )


def _recorded_deadline(
    history: Sequence[StoredRevision], created: datetime | None
) -> datetime | None:
    raw = history[-1].labels.get(DEADLINE_LABEL, "")
    if not raw.isdigit() or any(r.labels.get(DEADLINE_LABEL) == raw for r in history[:-1]):
        return None  # copied forward from an earlier revision: another operation's
    deadline = datetime.fromtimestamp(int(raw), UTC)
    if created is not None and not created <= deadline <= created + LONGEST_OPERATION:
        return None  # carried over from an older revision, or not gunj's
    return deadline


# The states in which a revision is created, by the install or upgrade its label names. A
# revision being uninstalled keeps the labels of the operation that made it, and a rollback's
# copies an older revision's: neither names the process at work now.
_WRITTEN_BY_RUNNER = frozenset({ReleaseStatus.PENDING_INSTALL, ReleaseStatus.PENDING_UPGRADE})


def _recorded_runner(history: Sequence[StoredRevision]) -> Runner | None:
    """The Helm process that wrote the newest of ``history``, pending since, if gunj's Helm did:
    its label, unless an earlier revision carries the same (Helm copied it forward: another
    operation's)."""
    current = history[-1]
    raw = current.labels.get(RUNNER_LABEL)
    if current.status not in _WRITTEN_BY_RUNNER:
        return None
    if not raw or any(r.labels.get(RUNNER_LABEL) == raw for r in history[:-1]):
        return None
    return Runner.parse(raw)


def last_good(history: Sequence[StoredRevision]) -> int | None:
    """The newest of ``history`` that was deployed and passed its tests since."""
    for revision in reversed(history):
        if revision.status not in {ReleaseStatus.DEPLOYED, ReleaseStatus.SUPERSEDED}:
            continue
        if passed_tests_since_deployed(revision.decode()):
            return revision.revision
    return None


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
    """The digest label on the current revision (a hint only)."""
    content_digest: str | None = None
    """The digest of what the current revision holds (chart, version, values)."""
    deployed_at: datetime | None = None
    """When the current revision was made (Helm's ``last_deployed``): with the revision
    number, it identifies one revision even across an uninstall and a fresh install."""
    description: str = ""
    tested: bool = False
    has_tests: bool = False
    locked_for: timedelta | None = None
    deadline: datetime | None = None
    """For a locked release: when the operation gunj started can no longer be running."""
    runner: Runner | None = None
    """For a locked release: the Helm process that wrote its current revision (gunj's Helm)."""
    runner_exited: bool = False
    """For a locked release: :attr:`runner` ran on this machine and has exited, so nothing can
    finish the pending operation (observed when the release was)."""
    first_install: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    """The current revision's own labels."""
    label_history: tuple[Mapping[str, str], ...] = ()
    """The labels of every stored revision, oldest first (who made the release, and when)."""
    history: tuple[StoredRevision, ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def last_good_revision(self) -> int | None:
        """The newest revision deployed and tested, by Helm's own account. Read on demand: it
        decodes older revisions, which a reconcile that finds the release in sync never needs."""
        return last_good(self.history)

    def revision_exists(self, revision: int) -> bool:
        return self.revision is not None and 0 < revision <= self.revision


class ReleaseStore:
    def __init__(self, access: ClusterAccess, owner: str = "helm") -> None:
        """``owner``: whose storage to read; Helm's (``owner=helm``), or another store kept in
        the same format (gunj's native mode keeps its revisions as ``owner=gunj-native``)."""
        self.access = access
        self.owner = owner

    def _list(
        self, namespace: str, selector: str, cached: bool = False
    ) -> dict[str, list[StoredRevision]]:
        secrets = self.access.resources.list(_SECRETS, namespace, selector, cached=cached)
        releases: dict[str, list[StoredRevision]] = {}
        for secret in secrets:
            metadata = secret.get("metadata") or {}
            if not metadata.get("name"):
                continue
            labels = metadata.get("labels") or {}
            modified = labels.get("modifiedAt")
            name = labels.get("name", "")
            try:
                revision = int(labels.get("version", 0))
                status = ReleaseStatus(labels.get("status", "unknown"))
                when = datetime.fromtimestamp(int(modified), UTC) if modified else None
            except (ValueError, OverflowError, OSError):
                # Helm writes these labels itself: a Secret whose labels are not Helm's is
                # none of its revisions (forged, or damaged), and must not stop the look at
                # every other release of the namespace.
                log.warning(
                    "Secret %s in %s is left out: its labels are not those of a release "
                    "revision Helm wrote",
                    metadata["name"],
                    namespace,
                )
                continue
            releases.setdefault(name, []).append(
                StoredRevision(
                    release=name,
                    namespace=namespace,
                    revision=revision,
                    status=status,
                    modified=when,
                    secret=metadata["name"],
                    resource_version=metadata.get("resourceVersion") or "",
                    payload=str((secret.get("data") or {}).get("release", "")),
                    labels={k: v for k, v in labels.items() if k not in SYSTEM_LABELS},
                )
            )
        return {name: sorted(rs, key=lambda r: r.revision) for name, rs in releases.items()}

    def revisions(self, name: str, namespace: str) -> list[StoredRevision]:
        return self._list(namespace, f"owner={self.owner},name={name}").get(name, [])

    def namespace_revisions(
        self, namespace: str, cached: bool = False
    ) -> dict[str, list[StoredRevision]]:
        """Every release of ``namespace`` and its stored revisions, in one API call (from the
        API server's cache when ``cached``: possibly a moment old)."""
        return self._list(namespace, f"owner={self.owner}", cached)

    def observe(self, name: str, namespace: str, now: datetime | None = None) -> ObservedRelease:
        return self.observe_history(name, namespace, self.revisions(name, namespace), now)

    def observe_namespace(
        self, namespace: str, now: datetime | None = None, *, cached: bool = False
    ) -> dict[str, ObservedRelease]:
        """Every release of ``namespace`` that can be read, observed from one API call
        (``cached``: see :meth:`namespace_revisions`). One that cannot (a forged or damaged
        Secret) is left out, so that it is no one else's problem: the reconcile of a platform
        it belongs to observes it again on its own (:meth:`observe`) before acting, and reports
        it there."""
        observed: dict[str, ObservedRelease] = {}
        for name, history in self.namespace_revisions(namespace, cached).items():
            with contextlib.suppress(ReleaseUnreadable):
                observed[name] = self.observe_history(name, namespace, history, now)
        return observed

    def observe_history(
        self,
        name: str,
        namespace: str,
        history: list[StoredRevision],
        now: datetime | None = None,
    ) -> ObservedRelease:
        now = now or datetime.now(UTC)
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
        info = release.get("info") or {}
        deployed_at = parse_time(info.get("last_deployed"))
        # Not the modifiedAt label first: Helm copies it to the next revision unchanged.
        since = deployed_at or current.modified
        runner = _recorded_runner(history)
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
            content_digest=stored_content_digest(release),
            deployed_at=deployed_at,
            description=str(info.get("description", "")),
            tested=state is ReleaseState.DEPLOYED and passed_tests_since_deployed(release),
            has_tests=bool(_test_hooks(release)),
            locked_for=(now - since) if state is ReleaseState.LOCKED and since else None,
            deadline=_recorded_deadline(history, deployed_at)
            if state is ReleaseState.LOCKED
            else None,
            runner=runner,
            runner_exited=runner is not None and runner.exited(),
            history=tuple(history),
            first_install=not any(
                r.status in {ReleaseStatus.DEPLOYED, ReleaseStatus.SUPERSEDED} for r in history
            ),
            labels=dict(current.labels),
            label_history=tuple(dict(r.labels) for r in history),
        )

    def chart_version_of(self, name: str, namespace: str, revision: int) -> str | None:
        """The chart version a stored revision holds (None if it is not stored)."""
        for stored in self.revisions(name, namespace):
            if stored.revision == revision:
                metadata = (stored.decode().get("chart") or {}).get("metadata") or {}
                version = metadata.get("version")
                return str(version) if version else None
        return None

    def last_good_revision(self, name: str, namespace: str) -> int | None:
        return last_good(self.revisions(name, namespace))

    def unlock(
        self,
        name: str,
        namespace: str,
        *,
        older_than: timedelta,
        now: datetime | None = None,
        revision: int | None = None,
        why: str | None = None,
    ) -> StoredRevision | None:
        """Mark a pending revision failed when it has been pending longer than ``older_than``
        (its operation's timeout: a live Helm would have given up by then). ``revision``: only
        that revision, the one judged stale (another one pending now is another operation's);
        ``why``: what proved it stale, for Helm's description. Returns the revision unlocked,
        or None when there was nothing to do. Raises ApiConflict when a Helm process updated the
        revision meanwhile (it is alive after all)."""
        now = now or datetime.now(UTC)
        history = self.revisions(name, namespace)
        if not history:
            return None
        current = history[-1]
        if not (current.status.pending or current.status is ReleaseStatus.UNINSTALLING):
            return None
        if revision is not None and current.revision != revision:
            raise ApiConflict(
                f"release {name} is pending at revision {current.revision}, not {revision}"
            )
        release = current.decode()
        since = parse_time((release.get("info") or {}).get("last_deployed")) or current.modified
        if since is not None and now - since < older_than:
            return None
        age = f"{int((now - since).total_seconds())}s" if since else "an unknown time"
        release.setdefault("info", {})
        release["info"]["status"] = ReleaseStatus.FAILED.value
        release["info"]["description"] = (
            f"gunj: {current.status.value} left for {age} by a Helm process that did not finish"
            + (f" ({why})" if why else "")
            + "; marked failed"
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

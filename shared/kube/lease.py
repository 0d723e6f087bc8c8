"""A ``coordination.k8s.io/v1`` Lease as a lock: one holder at a time, renewed while it works,
released when done, taken over once it has expired.

Every change is an optimistic-concurrency update (the resourceVersion read is the one written),
so two processes racing for a free or expired Lease cannot both win: the loser gets a conflict
and reports the Lease as held. A holder renews from a background thread, so a long Helm
operation does not let the Lease lapse; a holder that dies stops renewing, and the Lease is free
again ``duration`` later.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kubernetes import client

from .access import ClusterAccess
from .errors import ApiConflict, ApiNotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseHeld:
    holder: str
    expires: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class Lease:
    def __init__(
        self,
        access: ClusterAccess,
        namespace: str,
        name: str,
        identity: str,
        duration: timedelta = timedelta(seconds=60),
    ) -> None:
        self.access = access
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.duration = duration
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = threading.Event()
        """Set when a renewal found the Lease taken by someone else, or none succeeded for the
        Lease's whole duration: the holder must stop changing what the Lease guards."""

    def _spec(self, now: datetime, transitions: int) -> client.V1LeaseSpec:
        """The Lease as this holder takes it at ``now``."""
        return client.V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=int(self.duration.total_seconds()),
            acquire_time=now,
            renew_time=now,
            lease_transitions=transitions,
        )

    def acquire(self) -> LeaseHeld | None:
        """Take the Lease; None on success, else who holds it (and until when)."""
        api = self.access.coordination
        now = _now()
        try:
            current = api.read_namespaced_lease(self.name, self.namespace)
        except ApiNotFound:
            body = client.V1Lease(
                metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
                spec=self._spec(now, 0),
            )
            try:
                api.create_namespaced_lease(self.namespace, body)
            except ApiConflict:  # another made it first
                return self._holder_of(api.read_namespaced_lease(self.name, self.namespace))
            self._start_renewing()
            return None
        spec = current.spec or client.V1LeaseSpec()
        held = self._holder_of(current)
        if held is not None and spec.holder_identity != self.identity and held.expires > now:
            return held
        transitions = (spec.lease_transitions or 0) + (spec.holder_identity != self.identity)
        current.spec = self._spec(now, transitions)
        try:
            api.replace_namespaced_lease(self.name, self.namespace, current)
        except ApiConflict:  # another changed it first
            return self._holder_of(api.read_namespaced_lease(self.name, self.namespace))
        self._start_renewing()
        return None

    def _holder_of(self, lease: client.V1Lease) -> LeaseHeld | None:
        spec = lease.spec
        if spec is None or not spec.holder_identity:
            return None
        renewed = spec.renew_time or spec.acquire_time or _now()
        if renewed.tzinfo is None:
            renewed = renewed.replace(tzinfo=UTC)
        expires = renewed + timedelta(seconds=spec.lease_duration_seconds or 0)
        return LeaseHeld(spec.holder_identity, expires)

    def _start_renewing(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="lease-renewer", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        interval = self.duration.total_seconds() / 3
        renewed = time.monotonic()
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    self.lost.set()
                    return
                renewed = time.monotonic()
            except Exception:  # a blip of the API server: the next renewal may succeed
                log.warning("renewing lease %s/%s failed", self.namespace, self.name)
                if time.monotonic() - renewed >= self.duration.total_seconds():
                    # Unrenewed for its whole duration: another may have taken it by now.
                    self.lost.set()
                    return

    def renew(self) -> bool:
        """Extend the Lease; False when someone else holds it now."""
        api = self.access.coordination
        current = api.read_namespaced_lease(self.name, self.namespace)
        if current.spec is None or current.spec.holder_identity != self.identity:
            return False
        current.spec.renew_time = _now()
        try:
            api.replace_namespaced_lease(self.name, self.namespace, current)
        except ApiConflict:
            return self.renew()
        return True

    def release(self) -> None:
        """Stop renewing and give the Lease up (only if still ours)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        api = self.access.coordination
        # Gone, or taken meanwhile: not ours to give up.
        with contextlib.suppress(ApiNotFound, ApiConflict):
            current = api.read_namespaced_lease(self.name, self.namespace)
            if current.spec is None or current.spec.holder_identity != self.identity:
                return
            current.spec.holder_identity = None
            current.spec.renew_time = None
            current.spec.acquire_time = None
            api.replace_namespaced_lease(self.name, self.namespace, current)

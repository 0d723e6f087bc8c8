"""A ``coordination.k8s.io/v1`` Lease as a lock: one holder at a time, renewed while it works,
released when done, taken over once it has expired.

Whoever may write Leases in the namespace can write this one too, so what a Lease says of
itself is believed only so far (:meth:`Lease.believed`): a ``leaseDurationSeconds`` beyond
``max_duration`` counts as ``max_duration``; a ``renewTime`` or ``acquireTime`` in the future
counts as now; and a holder that ``recognised`` does not take for one of this program's
identities is obeyed for at most ``max_duration`` from when it says it took the Lease. Such a
Lease is reported as held with the reason it is doubted (:attr:`LeaseHeld.doubt`), and taken
over once that time has passed.

A holder with a deadline (``until``, on the ``time.monotonic()`` clock) stops renewing when it
passes and counts the Lease as lost: work that outlived its deadline (a request that hung, a
caller that gave up waiting for it) starts nothing more and writes no more status, and the
Lease is free again ``duration`` after its last renewal.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kubernetes import client

from .access import ClusterAccess
from .errors import ApiConflict, ApiNotFound

log = logging.getLogger(__name__)


# Longer holder names are cut in messages: the Lease's content is anyone's who may write it.
_SHOWN_HOLDER = 80


@dataclass(frozen=True)
class LeaseHeld:
    holder: str
    expires: datetime
    """Until when it is obeyed (what the Lease says, within what is believed of it)."""
    doubt: str | None = None
    """Why the Lease is not believed as it stands (None: it is)."""

    def describe(self) -> str:
        """Who holds it and until when, in words; with why it is doubted, if it is."""
        holder = self.holder if len(self.holder) <= _SHOWN_HOLDER else self.holder[:_SHOWN_HOLDER]
        until = self.expires.isoformat(timespec="seconds")
        if self.doubt is None:
            return f"{holder!r} (lease until {until})"
        return f"{holder!r}, which is not believed past {until}: {self.doubt}"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Lease:
    def __init__(
        self,
        access: ClusterAccess,
        namespace: str,
        name: str,
        identity: str,
        duration: timedelta = timedelta(seconds=60),
        *,
        max_duration: timedelta = timedelta(seconds=600),
        recognised: Callable[[str], bool] = lambda holder: True,
        until: float | None = None,
    ) -> None:
        self.access = access
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.duration = duration
        self.max_duration = max_duration
        self.recognised = recognised
        """Whether a holder's identity is one of this program's."""
        self.until = until
        """time.monotonic() after which this holder neither renews nor counts it as held."""
        self.overridden: LeaseHeld | None = None
        """The doubted holder this one took the Lease from, if it did."""
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
        if held is not None and held.doubt is not None and spec.holder_identity != self.identity:
            self.overridden = held
        transitions = (spec.lease_transitions or 0) + (spec.holder_identity != self.identity)
        current.spec = self._spec(now, transitions)
        try:
            api.replace_namespaced_lease(self.name, self.namespace, current)
        except ApiConflict:  # another changed it first
            return self._holder_of(api.read_namespaced_lease(self.name, self.namespace))
        self._start_renewing()
        return None

    def _holder_of(self, lease: client.V1Lease) -> LeaseHeld | None:
        return self.believed(lease, _now())

    def believed(self, lease: client.V1Lease, now: datetime) -> LeaseHeld | None:
        """Who holds ``lease`` and until when, as far as it is believed at ``now``; None when
        no one holds it."""
        spec = lease.spec
        if spec is None or not spec.holder_identity:
            return None
        holder = str(spec.holder_identity)
        renewed = min(_aware(spec.renew_time or spec.acquire_time) or now, now)
        acquired = min(_aware(spec.acquire_time) or renewed, renewed)
        said = timedelta(seconds=max(spec.lease_duration_seconds or 0, 0))
        ceiling = int(self.max_duration.total_seconds())
        doubts: list[str] = []
        if said > self.max_duration:
            doubts.append(
                f"its leaseDurationSeconds {said.total_seconds():.0f} is beyond the "
                f"{ceiling} s believed of any holder"
            )
        expires = renewed + min(said, self.max_duration)
        if not self.recognised(holder):
            doubts.append(
                f"the holder is not an identity of gunj's, so it is obeyed for {ceiling} s "
                "from when it took the Lease at most"
            )
            expires = min(expires, acquired + self.max_duration)
        return LeaseHeld(holder, expires, "; ".join(doubts) or None)

    def _start_renewing(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="lease-renewer", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        interval = self.duration.total_seconds() / 3
        renewed = time.monotonic()
        while not self._stop.wait(self._next_wait(interval)):
            if self.until is not None and time.monotonic() >= self.until:
                # Past the holder's deadline: whatever still runs must not act on the Lease.
                self.lost.set()
                return
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

    def _next_wait(self, interval: float) -> float:
        if self.until is None:
            return interval
        return max(min(interval, self.until - time.monotonic()), 0.0)

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

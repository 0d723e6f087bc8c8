"""What can stop a reconcile, each transient (Pub/Sub delivers the event again later) or
permanent (reported and acknowledged)."""

from __future__ import annotations

from ..errors import GunjError


class Deferred(GunjError):
    """Another reconcile holds the platform, or a Helm operation of it may still run: this one
    steps aside and the event is delivered again later. Never an error a person must act on."""

    transient = True


class OutOfTime(GunjError):
    """The invocation's deadline came before the work was done; what remains is resumed by the
    next event (every step is recorded in the status)."""

    transient = True


class NativeTimeout(GunjError):
    """A native component's workloads were not ready within its timeout (Helm's own wait ends
    in :class:`~shared.helm.errors.HelmTimeout`)."""

    transient = True


class NativeBlocked(GunjError):
    """A native component's workloads cannot come up without a person, as the cluster says
    (:mod:`.verification.watch`; Helm's wait ends in :class:`~shared.helm.errors.HelmBlocked`).
    Permanent: the same objects would be refused the same way."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class RefusedSpec(GunjError):
    """The spec cannot be applied to this cluster as it is (e.g. template expressions where the
    cluster does not allow them); nothing was changed."""


class NotFound(GunjError):
    """The platform (or component, or revision) a command names does not exist."""

"""The fleet store, opened once per process, with a deadline on every call and typed errors.

Every other fleet module reaches Firestore through :class:`Store`: it reads documents, lists a
collection, and writes only with a precondition (:meth:`Store.create` fails on a document that
exists, :meth:`Store.change` writes only over the version it read, and reads again and retries
when another writer came first), so concurrent functions cannot lose an update. Each call has
the deadline :data:`~.settings.CALL_TIMEOUT_SECONDS` (Firestore's own defaults allow a minute).

Google's errors become the project's: :class:`StoreUnavailable` (transient: the store cannot be
reached, timed out or is overloaded) and :class:`StoreRefused` (permanent: no credentials, no
permission, no such database). After the store was found unavailable, calls in the next
:data:`QUIET_SECONDS` fail at once instead of waiting out their deadline again: a store that is
down must cost a function one deadline, not one per platform.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ..errors import GunjError
from .settings import CALL_TIMEOUT_SECONDS, FleetSettings

if TYPE_CHECKING:
    from google.cloud import firestore

QUIET_SECONDS = 30.0
"""After the store did not answer, how long calls fail at once rather than wait again."""
CHANGE_ATTEMPTS = 12
"""How often :meth:`Store.change` reads again after another writer came first (with a random
pause growing to a second between attempts, so that contending writers spread out)."""


class FleetStoreError(GunjError):
    """The fleet store could not be read or written."""


class StoreUnavailable(FleetStoreError):
    """The fleet store could not be reached, timed out, or is overloaded: try again later."""

    transient = True


class StoreRefused(FleetStoreError):
    """The fleet store refused the request (credentials, permission, database, argument)."""


class Contended(StoreUnavailable):
    """Other writers changed a document every time it was about to be written."""


class Keep:
    """The answer of a change function that leaves the document as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()
"""Returned by a change function: write nothing."""
DELETE: Final = None
"""Returned by a change function: delete the document (if it exists)."""

Change = Callable[[dict[str, Any] | None], "dict[str, Any] | Keep | None"]


@dataclass(frozen=True)
class Changed:
    """What :meth:`Store.change` did: ``before`` and ``after`` (None: no document)."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None
    written: bool


@dataclass
class Store:
    """One fleet store (a Firestore database), its client opened once."""

    settings: FleetSettings
    _client: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _quiet_until: float = 0.0
    _quiet_reason: str = ""

    def describe(self) -> str:
        return self.settings.describe()

    @property
    def client(self) -> firestore.Client:
        with self._lock:
            if self._client is None:
                with self.errors("opening the fleet store"):
                    self._client = self.settings.client()
            client: firestore.Client = self._client
            return client

    def document(self, collection: str, document_id: str) -> Any:
        return self.client.collection(collection).document(document_id)

    # Reads.

    def read(self, collection: str, document_id: str) -> dict[str, Any] | None:
        """The document's fields, or None when it does not exist."""
        snapshot = self._get(self.document(collection, document_id), f"reading {collection}")
        return snapshot.to_dict() if snapshot.exists else None

    def list(self, collection: str) -> list[tuple[str, dict[str, Any]]]:
        """Every document of the collection: (id, fields), by id."""
        with self.errors(f"listing {collection}"):
            snapshots = self.client.collection(collection).get(
                retry=_retry(), timeout=CALL_TIMEOUT_SECONDS
            )
        found = [(snapshot.id, snapshot.to_dict() or {}) for snapshot in snapshots]
        return sorted(found, key=lambda item: item[0])

    # Writes, each with a precondition.

    def create(self, collection: str, document_id: str, fields: dict[str, Any]) -> bool:
        """Create the document; False (and nothing written) when it exists already."""
        from google.api_core import exceptions

        reference = self.document(collection, document_id)
        try:
            with self.errors(f"writing {collection}"):
                reference.create(fields, retry=_retry(), timeout=CALL_TIMEOUT_SECONDS)
        except StoreRefused as error:
            if isinstance(error.__cause__, exceptions.Conflict):
                return False
            raise
        return True

    def change(self, collection: str, document_id: str, change: Change) -> Changed:
        """Read the document, ask ``change`` what it becomes (fields, :data:`KEEP` or
        :data:`DELETE`) and write that only over the version read; when another writer came
        first, read again and ask again. ``change`` must be pure: it may run several times."""
        from google.api_core import exceptions

        reference = self.document(collection, document_id)
        what = f"writing {collection}"
        for attempt in range(CHANGE_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0.0, min(1.0, 0.02 * 2**attempt)))  # noqa: S311
            snapshot = self._get(reference, f"reading {collection}")
            before = snapshot.to_dict() if snapshot.exists else None
            after = change(None if before is None else dict(before))
            if isinstance(after, Keep) or (after is None and before is None):
                return Changed(before=before, after=before, written=False)
            try:
                with self.errors(what):
                    self._write(reference, snapshot, after)
            except StoreRefused as error:
                if isinstance(error.__cause__, exceptions.Conflict | exceptions.FailedPrecondition):
                    continue  # another writer came first: read what it wrote
                raise
            return Changed(before=before, after=after, written=True)
        raise Contended(
            f"{what} {document_id}: changed by others on each of {CHANGE_ATTEMPTS} attempts"
        )

    def delete(self, collection: str, document_id: str) -> bool:
        """Delete the document; False when there was none."""
        return self.change(collection, document_id, lambda _fields: DELETE).written

    def _write(self, reference: Any, snapshot: Any, after: dict[str, Any] | None) -> None:
        options: dict[str, Any] = {"retry": _retry(), "timeout": CALL_TIMEOUT_SECONDS}
        if not snapshot.exists:
            # A missing document that stays missing is no write (see change()).
            reference.create(after or {}, **options)
            return
        precondition = self.client.write_option(last_update_time=snapshot.update_time)
        if after is None:
            reference.delete(option=precondition, **options)
        else:
            # set() takes no precondition; update() with every field replaces the document's
            # fields that are named, so fields dropped by the change are deleted explicitly.
            from google.cloud import firestore

            replaced: dict[str, Any] = dict(after)
            for name in (snapshot.to_dict() or {}).keys() - after.keys():
                replaced[name] = firestore.DELETE_FIELD
            reference.update(_field_paths(replaced), option=precondition, **options)

    def _get(self, reference: Any, what: str) -> Any:
        with self.errors(what):
            return reference.get(retry=_retry(), timeout=CALL_TIMEOUT_SECONDS)

    # Errors.

    @contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Turn Google's errors into :class:`StoreUnavailable` or :class:`StoreRefused`,
        saying what was being done and where; fail at once while the store is quiet."""
        now = time.monotonic()
        if now < self._quiet_until:
            raise StoreUnavailable(
                f"fleet store ({self.describe()}) {what}: not answering ({self._quiet_reason})"
            )
        try:
            yield
        except Exception as error:
            typed = _typed(error, f"fleet store ({self.describe()}) {what}")
            if typed is None:
                raise
            if typed.transient and not isinstance(typed, Contended):
                self._quiet_until = time.monotonic() + QUIET_SECONDS
                self._quiet_reason = _short(error)
            raise typed from error


def _field_paths(fields: dict[str, Any]) -> dict[str, Any]:
    """update() reads dots in keys as nested paths: quote each top-level name as one field."""
    from google.cloud.firestore_v1.field_path import FieldPath

    return {FieldPath(name).to_api_repr(): value for name, value in fields.items()}


def _retry() -> Any:
    """Retry what may pass (unavailable, timed out, overloaded) within the call's deadline."""
    from google.api_core import exceptions, retry

    return retry.Retry(
        predicate=retry.if_exception_type(
            exceptions.ServiceUnavailable,
            exceptions.DeadlineExceeded,
            exceptions.InternalServerError,
            exceptions.TooManyRequests,
            exceptions.ResourceExhausted,
        ),
        initial=0.1,
        maximum=2.0,
        multiplier=2.0,
        timeout=CALL_TIMEOUT_SECONDS,
    )


def _typed(error: Exception, what: str) -> FleetStoreError | None:
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions

    if isinstance(error, FleetStoreError):
        return error
    transient = (
        exceptions.RetryError,
        exceptions.ServiceUnavailable,
        exceptions.DeadlineExceeded,
        exceptions.InternalServerError,
        exceptions.TooManyRequests,
        exceptions.ResourceExhausted,
        exceptions.Aborted,
        exceptions.Unknown,
        exceptions.GatewayTimeout,
        TimeoutError,
        ConnectionError,
    )
    if isinstance(error, transient):
        return StoreUnavailable(f"{what}: {_short(error)}")
    if isinstance(error, exceptions.GoogleAPIError | auth_exceptions.GoogleAuthError):
        return StoreRefused(f"{what}: {_short(error)}")
    return None


def _short(error: BaseException) -> str:
    """One line of an error: its kind and first line (a retry error names its cause)."""
    from google.api_core import exceptions

    if isinstance(error, exceptions.RetryError) and error.cause is not None:
        return f"gave up after {CALL_TIMEOUT_SECONDS:g}s: {_short(error.cause)}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first[:300]}" if first else type(error).__name__


_stores: dict[FleetSettings, Store] = {}
_stores_lock = threading.Lock()


def open_store(settings: FleetSettings) -> Store:
    """The process's store for these settings (one client per process and settings)."""
    with _stores_lock:
        store = _stores.get(settings)
        if store is None:
            store = _stores[settings] = Store(settings)
        return store


def configured_store(env: Mapping[str, str] | None = None) -> Store | None:
    """The store the environment configures, or None: fleet features are off."""
    settings = FleetSettings.from_environment(env)
    return None if settings is None else open_store(settings)


def now() -> datetime:
    """The time a write records (timezone-aware UTC; Firestore keeps microseconds)."""
    from datetime import UTC

    return datetime.now(UTC)

"""HTTP for chart repositories and registries: every URL checked before it is fetched,
credentials only to the repository's own origin, every answer bounded in size and time, and
failures typed like Helm's.

One :class:`RepositoryFetch` serves one operation on one repository (listing a chart's versions,
pulling a chart). Each request, and each redirect it follows, is checked by the repository
settings (scheme, allow-list, normalised path); the connection itself is made only to addresses
checked when it is made (a host that resolves to a loopback, link-local, private or otherwise
non-public address is refused unless it is a configured mirror), so a name that resolves again
to another address (DNS rebinding) cannot slip past the check. An ``Authorization`` header goes
only to the origin it is meant for (the repository's, or an accepted token service's), and never
again once a redirect has left that origin. Proxies and ``.netrc`` from the environment are not
used: nothing but the repository's own credentials is ever sent (a CA bundle named by
``REQUESTS_CA_BUNDLE`` or ``SSL_CERT_FILE`` is trusted, for mirrors with a CA of their own).

A repository that cannot be reached, times out, or answers 5xx or 429 is transient (Pub/Sub
retries the event later); 401 and 403 are permanent until someone fixes the credentials; an
answer over a size limit is permanent. Credentials never appear in ``repr``, logs or messages,
and URLs appear without their query.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import (
    HelmError,
    RepositoryAuthFailed,
    RepositoryLimitExceeded,
    RepositoryNotAllowed,
    RepositoryTimedOut,
    RepositoryUnavailable,
)
from .limits import RepositoryLimits
from .urls import Origin, display, origin_of, resolve

if TYPE_CHECKING:
    import requests

    from .repositories import RepositorySettings

USER_AGENT = "gunj-functions"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def basic(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def secrets(self) -> list[str]:
        return [self.password]


@dataclass(frozen=True)
class Response:
    url: str
    """The URL that answered (after redirects), normalised."""
    status: int
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes


def refused_address(address: str) -> str | None:
    """Why a connection to ``address`` is refused, or ``None`` for a public address."""
    ip = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "not a public address"
    return None


class AddressRefused(Exception):
    """Raised when a connection is about to be made to a refused address. Not an ``OSError``,
    so the HTTP stack does not retry or wrap it."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} resolves to {address}, {reason}")
        self.host = host


def _session(exempt: frozenset[tuple[str, int]]) -> requests.Session:
    """A session whose connections are made only to checked addresses."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
    from urllib3.util import connection

    def guarded(conn: HTTPConnection) -> socket.socket:
        host, port = conn.host, conn.port or 0
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(host, conn, error) from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if (host.lower(), port) not in exempt:
            for address in addresses:
                if reason := refused_address(address):
                    raise AddressRefused(host, address, reason)
        last: OSError | None = None
        for address in addresses:  # the checked addresses, not a second resolution
            try:
                return connection.create_connection(
                    (address, port),
                    conn.timeout,
                    source_address=conn.source_address,
                    socket_options=conn.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(
                    conn, f"connection to {host} timed out (connect timeout={conn.timeout})"
                ) from error
            except OSError as error:
                last = error
        raise NewConnectionError(conn, f"failed to establish a new connection: {last}") from last

    class Plain(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return guarded(self)

    class Secure(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return guarded(self)

    class PlainPool(HTTPConnectionPool):
        ConnectionCls = Plain

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = Secure

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": PlainPool, "https": SecurePool}

    session = requests.Session()
    session.trust_env = False  # no proxies and no .netrc credentials from the environment
    # A CA bundle named in the environment (an internal mirror's CA) is still trusted.
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True
    session.headers = requests.structures.CaseInsensitiveDict(
        {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
    )
    session.mount("http://", Adapter(max_retries=0))
    session.mount("https://", Adapter(max_retries=0))
    return session


class RepositoryFetch:
    """The requests of one operation on one repository; a context manager (its connections
    are its own, closed at the end).

    ``repository`` is the repository as the spec names it (for messages), ``location`` the URL
    it is fetched from (after mirroring: ``https://…`` for an HTTP repository, the registry
    API's ``…/v2`` URL for an OCI one), whose origin is the only one its credentials go to.
    """

    def __init__(
        self,
        settings: RepositorySettings,
        repository: str,
        location: str,
        credentials: Credentials | None = None,
    ) -> None:
        self.settings = settings
        self.limits: RepositoryLimits = settings.limits
        self.repository = repository
        self.location = location
        self.origin = origin_of(location)
        self.credentials = credentials
        self.started = time.monotonic()
        self.deadline = self.started + self.limits.fetch_seconds
        self._session: requests.Session | None = None

    def __enter__(self) -> RepositoryFetch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def basic(self) -> str | None:
        """The repository's own credentials as an ``Authorization`` value, if it has any."""
        return self.credentials.basic() if self.credentials else None

    def _named(self) -> str:
        return f"repository {display(self.repository)}"

    def remaining(self, what: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RepositoryTimedOut(
                f"{self._named()}: gave up on {what} after {self.limits.fetch_seconds:g} s, the "
                f"time limit of one repository operation "
                f"({RepositoryLimits.variable('fetch_seconds')})"
            )
        return left

    def get(
        self,
        url: str,
        *,
        what: str,
        limit: int,
        limit_name: str,
        headers: Mapping[str, str] | None = None,
        authorization: str | None = None,
        credentials_to: Origin | None = None,
        accept_origin: Origin | None = None,
        allow: frozenset[int] = frozenset({200}),
    ) -> Response:
        """GET ``url`` (``what`` it is, for messages): statuses in ``allow`` are returned, others
        raise a typed error. ``authorization`` goes only to ``credentials_to`` (the repository's
        origin unless said otherwise); ``accept_origin`` is an origin allowed besides the
        allow-list (a registry's own token service). The body may not exceed ``limit`` bytes
        (the :class:`RepositoryLimits` field ``limit_name``)."""
        if self._session is None:
            self._session = _session(self.settings.mirror_hosts)
        to = credentials_to or self.origin
        current = url
        for _ in range(self.limits.redirects + 1):
            checked = self.settings.check_fetch(
                current, repository=self.repository, what=what, origin=accept_origin
            )
            where = origin_of(checked)
            sent = dict(headers or {})
            if authorization and where == to:
                sent["Authorization"] = authorization
            else:
                authorization = None  # once another origin is reached, never again
            answer = self._request(checked, sent, what)
            try:
                location = answer.headers.get("location")
                if answer.status_code in _REDIRECTS and location:
                    current = resolve(checked, location)
                    accept_origin = None  # a token service's exception is for itself only
                    continue
                return self._answer(
                    answer, checked, what, limit=limit, limit_name=limit_name, allow=allow
                )
            finally:
                answer.close()
        raise RepositoryNotAllowed(
            f"{self._named()}: {what} {display(url)} redirected more than "
            f"{self.limits.redirects} times ({RepositoryLimits.variable('redirects')})"
        )

    def _request(self, url: str, headers: dict[str, str], what: str) -> requests.Response:
        import requests

        assert self._session is not None  # noqa: S101 - get() made it
        left = self.remaining(what)
        timeout = (min(self.limits.connect_seconds, left), min(self.limits.read_seconds, left))
        try:
            return self._session.get(
                url, headers=headers, stream=True, allow_redirects=False, timeout=timeout
            )
        except AddressRefused as error:
            raise RepositoryNotAllowed(
                f"{self._named()}: {what} {display(url)} is refused: {error}; only a configured "
                "mirror (GUNJ_REPOSITORY_MIRRORS) may be on such an address"
            ) from None
        except requests.exceptions.Timeout:
            self.remaining(what)
            raise RepositoryUnavailable(
                f"{self._named()}: {what} {display(url)} cannot be reached: no answer within "
                f"{timeout[1]:g} s"
            ) from None
        except (requests.exceptions.RequestException, OSError) as error:
            raise RepositoryUnavailable(
                f"{self._named()}: {what} {display(url)} cannot be reached: {_reason(error)}"
            ) from None

    def _answer(
        self,
        answer: requests.Response,
        url: str,
        what: str,
        *,
        limit: int,
        limit_name: str,
        allow: frozenset[int],
    ) -> Response:
        status = answer.status_code
        shown = f"{self._named()}: {what} {display(url)}"
        if status not in allow:
            reason = f"{status} {answer.reason or ''}".strip()
            if status in {401, 403}:
                raise RepositoryAuthFailed(
                    f"{shown}: {reason}: the repository refused the request; check its credentials"
                )
            if status >= 500 or status == 429:
                raise RepositoryUnavailable(f"{shown}: {reason}")
            raise HelmError(f"{shown}: {reason}")
        headers = {key.lower(): value for key, value in answer.headers.items()}
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in {"", "identity"}:
            raise HelmError(f"{shown}: answered in content-encoding {encoding[:40]}, not asked for")
        return Response(url, status, headers, self._body(answer, shown, what, limit, limit_name))

    def _body(
        self, answer: requests.Response, shown: str, what: str, limit: int, limit_name: str
    ) -> bytes:
        import requests
        import urllib3

        def too_large() -> RepositoryLimitExceeded:
            return RepositoryLimitExceeded(
                f"{shown} is larger than {limit} bytes, the limit for it "
                f"({RepositoryLimits.variable(limit_name)})"
            )

        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large()
        raw = answer.raw
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                left = self.remaining(what)
                _read_timeout(raw, min(self.limits.read_seconds, left))
                chunk = raw.read1(_CHUNK, decode_content=False)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > limit:
                    raise too_large()
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as e:
            self.remaining(what)
            raise RepositoryUnavailable(f"{shown}: the answer broke off: {_reason(e)}") from None


def _read_timeout(raw: Any, seconds: float) -> None:
    """Bound the next read of ``raw`` (a urllib3 response) to ``seconds``: a server trickling
    bytes keeps each read short, so the deadline is checked between reads."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _reason(error: BaseException) -> str:
    """The innermost cause of a connection failure, in a few words."""
    seen: BaseException | None = error
    innermost = error
    for _ in range(10):
        if seen is None:
            break
        innermost = seen
        nested = getattr(seen, "reason", None)
        if isinstance(seen, OSError) and not isinstance(nested, BaseException):
            break
        seen = (
            nested
            if isinstance(nested, BaseException)
            else seen.args[0]
            if seen.args and isinstance(seen.args[0], BaseException)
            else seen.__cause__
        )
    if isinstance(innermost, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(innermost, ConnectionRefusedError):
        return "connection refused"
    if isinstance(innermost, ConnectionResetError):
        return "connection reset"
    text = str(innermost).split(": ", 1)[-1] if ": " in str(innermost) else str(innermost)
    return text[:200] or type(innermost).__name__

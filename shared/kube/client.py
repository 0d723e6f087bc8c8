"""The official Kubernetes client, raising gunj's typed errors (:mod:`.errors`), every request
bounded in time.

Every request of the typed APIs (``CoreV1Api`` and the rest) and of the dynamic client goes
through :meth:`ApiClient.call_api` (the transport: a connection that fails) and
:meth:`ApiClient.response_deserialize` (an answer outside 2xx), or through
``_call_with_legacy_options`` for an answer that is not decoded. Those three are where this
client turns the library's ``ApiException`` and urllib3's errors into :class:`~.errors.ApiError`
subclasses, so no code above them reads a status code or imports the library's exceptions. The
dynamic client's own wrapping of ``ApiException`` never sees them: its errors are typed here too.

Time: :meth:`TypedApiClient.call_api` gives every request that names no timeout of its own
:data:`CONNECT_SECONDS` to connect (the TLS handshake included) and :data:`READ_SECONDS` for
each read of the answer. A watch (``watch=true``) is ended by the API server after
``timeoutSeconds`` (:data:`WATCH_SECONDS` when the caller gave none) and read for a little longer
than that, so a watch that sees no change is not cut off early, and one on a server that went
silent still ends. A request that timed out is not sent again (:class:`_Retries`): a server that
did not answer in that time will not answer a retry sooner, and the work's deadline matters more;
a connection that failed (refused, reset) is still tried again, as urllib3 does. A request
that keeps a person at a command line waiting is named on stderr (:mod:`.waiting`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from .errors import from_response, unreachable
from .waiting import waited_on

CONNECT_SECONDS = 5.0
"""A connection and its TLS handshake: an API server that is up does both in milliseconds."""
READ_SECONDS = 15.0
"""Each read of an answer (the API server's own timeout for a request is 60 s, but it answers
within a second or two when it answers at all)."""
WATCH_SECONDS = 60
"""How long a watch that asked for no ``timeoutSeconds`` lasts on the API server."""
WATCH_MARGIN = 10.0
"""How much longer than its ``timeoutSeconds`` a watch is read before it is given up."""


class _Retries(Retry):
    """urllib3's retries (three, as its default), except of a request that timed out."""

    def increment(self, *args: Any, **kwargs: Any) -> Any:
        error = kwargs.get("error")
        # urllib3's NewConnectionError (refused, unreachable) is a ConnectTimeoutError too.
        if isinstance(error, ConnectTimeoutError | ReadTimeoutError) and not isinstance(
            error, NewConnectionError
        ):
            raise error
        return super().increment(*args, **kwargs)


RETRIES = _Retries(total=3)


def request_timeout(url: str) -> tuple[float, float]:
    """The (connect, read) timeout of a request to ``url`` (a watch: longer than it lasts)."""
    if not _is_watch(url):
        return CONNECT_SECONDS, READ_SECONDS
    query = parse_qs(urlsplit(url).query)
    lasts = query.get("timeoutSeconds", [""])[0]
    seconds = int(lasts) if lasts.isdigit() else WATCH_SECONDS
    return CONNECT_SECONDS, seconds + WATCH_MARGIN


def _is_watch(url: str) -> bool:
    return parse_qs(urlsplit(url).query).get("watch", [""])[0] in {"true", "1"}


def _bounded_watch(url: str) -> str:
    """``url``, with ``timeoutSeconds`` added if it is a watch that names none."""
    if _is_watch(url) and "timeoutSeconds" not in parse_qs(urlsplit(url).query):
        return f"{url}&timeoutSeconds={WATCH_SECONDS}"
    return url


def _typed(error: ApiException) -> Exception:
    status = int(error.status or 0)
    body = error.body if isinstance(error.body, str) else ""
    if status == 0:
        # The client's own "no answer" (a TLS failure): its reason holds no secret, but is long.
        return unreachable(error)
    return from_response(status, str(error.reason or ""), body)


class TypedApiClient(k8s.ApiClient):
    """An ``ApiClient`` whose failures are :class:`~.errors.ApiError` subclasses and whose
    requests are bounded in time."""

    def __init__(self, configuration: k8s.Configuration, *args: Any, **kwargs: Any) -> None:
        if configuration.retries is None:
            configuration.retries = RETRIES
        super().__init__(configuration, *args, **kwargs)

    def call_api(
        self,
        method: str,
        url: str,
        header_params: Any = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
    ) -> Any:
        from urllib3.exceptions import HTTPError

        url = _bounded_watch(url)
        timeout = _request_timeout if _request_timeout else request_timeout(url)
        try:
            if _is_watch(url):  # waits by design: nothing to announce
                return super().call_api(
                    method, url, header_params, body, post_params, _request_timeout=timeout
                )
            server = self.configuration.host
            with waited_on(f"the API server at {server} to answer {method} {urlsplit(url).path}"):
                response = super().call_api(
                    method, url, header_params, body, post_params, _request_timeout=timeout
                )
                # Read here, so that an answer which stops half-way is typed like one that never
                # began (the dynamic client would otherwise read it later, untyped).
                response.read()  # type: ignore[no-untyped-call]
            return response
        except ApiException as error:
            raise _typed(error) from None
        except (HTTPError, OSError) as error:
            raise unreachable(error, f"{method} {urlsplit(url).path}") from None

    def response_deserialize(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().response_deserialize(*args, **kwargs)
        except ApiException as error:
            raise _typed(error) from None

    def _call_with_legacy_options(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super()._call_with_legacy_options(*args, **kwargs)
        except ApiException as error:
            raise _typed(error) from None

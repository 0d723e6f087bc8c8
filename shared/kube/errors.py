"""Failures of the Kubernetes API, typed once, where the client meets the API server
(:mod:`.client`), so everything above catches what it means (a conflict, an object that is not
there, a refusal) instead of reading HTTP status codes.

| error | transient | the API server |
|---|---|---|
| :class:`ApiUnavailable` | yes | cannot be reached, times out, is overloaded (5xx, 408, 429) |
| :class:`ApiNotFound` | no | has no such object (404), or no longer (410) |
| :class:`ApiConflict` | no | saw the object change since it was read, or it exists already (409) |
| :class:`ApiForbidden` | no | does not let this identity do it (401, 403) |
| :class:`ApiInvalid` | no | refuses the object: invalid, or an admission denial (400, 422) |
| :class:`ApiRefused` | no | refuses the request for another reason (the base of the four above) |

A message never holds the response's body (an object the API server echoes may hold a secret),
except a refusal of RBAC's, which says only who may not do what where;
:attr:`ApiError.server_message` has the API server's own words for those that need them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import GunjError

# "[Errno 111] Connection refused" in the text of an error that holds the OSError no more.
_ERRNO = re.compile(r"\[Errno -?\d+\] ([A-Za-z][A-Za-z ,-]*)")


class ApiError(GunjError):
    """A request to the API server failed; ``status`` is its HTTP status (0: no answer)."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "", body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = body
        """The answer's body, as the API server sent it (may echo what was sent)."""

    @property
    def server_message(self) -> str:
        """The ``message`` of the API server's Status answer (may echo what was sent)."""
        try:
            document: Any = json.loads(self.body) if self.body else {}
        except ValueError:
            return ""
        return str(document.get("message", "")) if isinstance(document, dict) else ""

    def doing(self, what: str) -> ApiError:
        """The same error, saying what was being done when it happened."""
        return type(self)(f"{what}: {self}", status=self.status, reason=self.reason, body=self.body)


class ApiUnavailable(ApiError):
    """The API server could not be reached, timed out, or answered with a server error."""

    transient = True


class ApiRefused(ApiError):
    """The API server refused the request."""


class ApiNotFound(ApiRefused):
    """No such object (or kind, or namespace)."""


class ApiConflict(ApiRefused):
    """The object changed since it was read (an optimistic-concurrency update lost), or it
    exists already (a create)."""


class ApiForbidden(ApiRefused):
    """This identity may not do it (unauthorized or forbidden)."""


class ApiInvalid(ApiRefused):
    """The object is not valid as sent, or an admission webhook or policy denied it."""


class KubeconfigUnusable(GunjError):
    """A cluster's kubeconfig cannot be read or names no usable context (nothing was sent)."""


_BY_STATUS: dict[int, type[ApiRefused]] = {
    400: ApiInvalid,
    401: ApiForbidden,
    403: ApiForbidden,
    404: ApiNotFound,
    409: ApiConflict,
    410: ApiNotFound,
    422: ApiInvalid,
}


def from_response(status: int, reason: str, body: str = "") -> ApiError:
    """The error for an answer of the API server with ``status``."""
    if status >= 500 or status in {0, 408, 429}:
        return ApiUnavailable(
            f"the API server answered {status} {reason}", status=status, reason=reason
        )
    kind = _BY_STATUS.get(status, ApiRefused)
    refused = kind(
        f"the API server refused: {status} {reason}", status=status, reason=reason, body=body
    )
    if kind is ApiForbidden and (said := refused.server_message):
        # Who may not do what, where: an answer that never echoes what was sent, and the one
        # thing a person needs to change the cluster's RBAC.
        refused = kind(f"{refused}: {said[:400]}", status=status, reason=reason, body=body)
    return refused


def unreachable(cause: BaseException, request: str = "") -> ApiUnavailable:
    """The error for a request that got no answer (the connection failed or timed out): the
    kind of failure and, where the system said it, why (``Connection refused``), never an
    address or a request's content. A request that timed out is named by ``request`` (its
    method and path, e.g. ``GET /apis/coordination.k8s.io/v1/namespaces/x/leases/y``), with
    how long it was waited for."""
    if (waited := _timed_out(cause, request)) is not None:
        return ApiUnavailable(waited)
    why = _system_reason(cause)
    detail = f"{type(cause).__name__}: {why}" if why else type(cause).__name__
    return ApiUnavailable(f"the API server cannot be reached ({detail})")


# urllib3's words for a timeout, with the seconds it waited: "(read timeout=15.0)".
_WAITED = re.compile(r"\((connect|read) timeout=([0-9.]+)\)")


def _timed_out(cause: BaseException, request: str) -> str | None:
    """What a request that timed out waited for, in words; None for any other failure."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

    if isinstance(cause, NewConnectionError) or not isinstance(
        cause, ConnectTimeoutError | ReadTimeoutError
    ):
        return None
    match = _WAITED.search(str(cause))
    within = f" within {float(match.group(2)):g} s" if match else ""
    if isinstance(cause, ConnectTimeoutError) or (match and match.group(1) == "connect"):
        return f"the API server did not accept a connection{within}" + (
            f" (for {request})" if request else ""
        )
    return f"the API server did not answer {request or 'a request'}{within}"


def _system_reason(cause: BaseException | None) -> str:
    """The operating system's words for the innermost failure (``Connection refused``,
    ``timed out``), following urllib3's reasons and Python's causes."""
    seen = 0
    while cause is not None and seen < 10:
        seen += 1
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror)
        if isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__:
            return "timed out"
        text = str(cause)
        if match := _ERRNO.search(text):  # urllib3 keeps the OSError only as text
            return match.group(1)
        cause = getattr(cause, "reason", None) or cause.__cause__ or cause.__context__
    return ""


def api_error(error: BaseException, doing: str) -> GunjError:
    """The gunj error for ``error``, raised while ``doing``: an :class:`ApiError` as it is typed,
    with what was being done; a failure of the connection as :class:`ApiUnavailable`."""
    if isinstance(error, ApiError):
        return error.doing(doing)
    if isinstance(error, OSError):
        return unreachable(error).doing(doing)
    from urllib3.exceptions import HTTPError

    if isinstance(error, HTTPError):
        return unreachable(error).doing(doing)
    return GunjError(f"{doing}: {type(error).__name__}")

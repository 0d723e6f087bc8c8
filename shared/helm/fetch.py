"""HTTP for chart repositories and registries, with failures typed like Helm's.

A repository that cannot be reached, times out, or answers 5xx or 429 is transient (Pub/Sub
retries the event later); 401 and 403 are permanent until someone fixes the credentials.
Credentials never appear in ``repr``, logs or error messages.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import HelmError, RepositoryAuthFailed, RepositoryUnavailable

USER_AGENT = "gunj-functions"
DEFAULT_TIMEOUT = 30.0


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
    status: int
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes


class _NoRedirectAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never carry credentials to another host (object-store redirects)."""

    def redirect_request(  # type: ignore[no-untyped-def]  # noqa: PLR0917 - the base signature
        self, req, fp, code, msg, headers, newurl
    ):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if (
            new is not None
            and urllib.parse.urlparse(newurl).netloc != urllib.parse.urlparse(req.full_url).netloc
        ):
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_NoRedirectAuth())


def _lower(headers: Any) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in headers.items()}


def get(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    credentials: Credentials | None = None,
    authorization: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    allow: frozenset[int] = frozenset({200}),
) -> Response:
    """GET ``url``; statuses in ``allow`` are returned, others raise a typed error."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})  # noqa: S310 - http(s) only, checked by callers
    if authorization:
        request.add_header("Authorization", authorization)
    elif credentials:
        request.add_header("Authorization", credentials.basic())
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return Response(url, answer.status, _lower(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        status = error.code
        body = error.read() if status in allow else b""
        if status in allow:
            return Response(url, status, _lower(error.headers), body)
        if status in {401, 403}:
            raise RepositoryAuthFailed(
                f"{url}: {status} {error.reason}: the repository refused "
                "the request; check its credentials"
            ) from None
        if status >= 500 or status == 429:
            raise RepositoryUnavailable(f"{url}: {status} {error.reason}") from None
        raise HelmError(f"{url}: {status} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise RepositoryUnavailable(f"{url}: cannot be reached: {reason}") from None

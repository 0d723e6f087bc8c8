"""Failures of the Kubernetes API, typed like gunj's other errors: an API server that cannot be
reached, is overloaded or times out is transient; a refusal (forbidden, invalid) is not."""

from __future__ import annotations

from ..errors import GunjError


class ApiUnavailable(GunjError):
    """The API server could not be reached or answered with a server error."""

    transient = True


class ApiRefused(GunjError):
    """The API server refused the request (unauthorized, forbidden, invalid)."""


def api_error(error: BaseException, doing: str) -> GunjError:
    """The gunj error for an exception the Kubernetes client raised while ``doing``."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    if isinstance(error, ApiException):
        status = error.status or 0
        if status >= 500 or status in {0, 408, 429}:
            return ApiUnavailable(f"{doing}: the API server answered {status} {error.reason}")
        return ApiRefused(f"{doing}: the API server refused: {status} {error.reason}")
    if isinstance(error, HTTPError | OSError):
        return ApiUnavailable(f"{doing}: the API server cannot be reached ({type(error).__name__})")
    return GunjError(f"{doing}: {type(error).__name__}")

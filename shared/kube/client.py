"""The official Kubernetes client, raising gunj's typed errors (:mod:`.errors`).

Every request of the typed APIs (``CoreV1Api`` and the rest) and of the dynamic client goes
through :meth:`ApiClient.call_api` (the transport: a connection that fails) and
:meth:`ApiClient.response_deserialize` (an answer outside 2xx), or through
``_call_with_legacy_options`` for an answer that is not decoded. Those three are where this
client turns the library's ``ApiException`` and urllib3's errors into :class:`~.errors.ApiError`
subclasses, so no code above them reads a status code or imports the library's exceptions. The
dynamic client's own wrapping of ``ApiException`` never sees them: its errors are typed here too.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from .errors import from_response, unreachable


def _typed(error: ApiException) -> Exception:
    status = int(error.status or 0)
    body = error.body if isinstance(error.body, str) else ""
    if status == 0:
        # The client's own "no answer" (a TLS failure): its reason holds no secret, but is long.
        return unreachable(error)
    return from_response(status, str(error.reason or ""), body)


class TypedApiClient(k8s.ApiClient):
    """An ``ApiClient`` whose failures are :class:`~.errors.ApiError` subclasses."""

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        from urllib3.exceptions import HTTPError

        try:
            return super().call_api(*args, **kwargs)
        except ApiException as error:
            raise _typed(error) from None
        except (HTTPError, OSError) as error:
            raise unreachable(error) from None

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

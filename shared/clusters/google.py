"""Google Cloud as the registry reaches it: the function's own identity (application default
credentials) and a Secret Manager client, each made once and on first use, and the rule that
sorts Google's errors into transient and permanent.

The Google libraries are imported inside the functions that use them: a function instance that
never reaches a Secret Manager or GKE cluster does not pay for importing them. Tests replace
``credentials`` and ``secret_manager`` with fakes; the GKE API's address is a field for the same
reason (``gke.py``).

Every Secret Manager call (a kubeconfig, a ``valuesFrom`` version) is bounded by ``timeout``:
each attempt, and the retries of a transient failure together. ``GUNJ_SECRET_MANAGER_ENDPOINT``
(``host:port``) sends them to a server speaking Secret Manager's gRPC API without TLS and without
credentials, such as an emulator on 127.0.0.1; unset, they go to Google with the function's
identity.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ClusterConnectError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
CONTAINER_API = "https://container.googleapis.com"
PROJECT_VARIABLE = "GUNJ_PROJECT"
SECRET_MANAGER_ENDPOINT_VARIABLE = "GUNJ_SECRET_MANAGER_ENDPOINT"  # noqa: S105 - a name


class SecretManager(Protocol):
    """The one call of ``secretmanager.SecretManagerServiceClient`` the registry makes."""

    def access_secret_version(
        self, request: Any = None, *, retry: Any = None, timeout: Any = None
    ) -> Any: ...


def _default_credentials() -> Credentials:
    import google.auth

    credentials, _project = google.auth.default(scopes=[CLOUD_PLATFORM])
    return credentials


def _secret_manager_client(credentials: Credentials) -> SecretManager:
    from google.cloud import secretmanager

    client: SecretManager = secretmanager.SecretManagerServiceClient(credentials=credentials)
    return client


def _secret_manager_at(endpoint: str) -> SecretManager:
    """A client of the Secret Manager API served at ``endpoint`` in plain gRPC, sending no
    credentials (an emulator's)."""
    import grpc
    from google.cloud import secretmanager
    from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
        SecretManagerServiceGrpcTransport,
    )

    transport = SecretManagerServiceGrpcTransport(
        host=endpoint, channel=grpc.insecure_channel(endpoint)
    )
    client: SecretManager = secretmanager.SecretManagerServiceClient(transport=transport)
    return client


def _bounded_retry(timeout: float) -> Any:
    """Retries of a transient failure (unavailable, overloaded), all within ``timeout``."""
    from google.api_core.retry import Retry

    return Retry(initial=0.25, maximum=4.0, multiplier=2.0, timeout=timeout)


@dataclass
class GoogleCloud:
    project: str | None = None
    secret_manager_endpoint: str | None = None
    """Where to reach Secret Manager in plain gRPC without credentials (None: Google)."""
    container_api: str = CONTAINER_API
    timeout: float = 30.0
    credentials_factory: Callable[[], Credentials] = _default_credentials
    secret_manager_factory: Callable[[Credentials], SecretManager] = _secret_manager_client
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _credentials: Credentials | None = field(default=None, repr=False)
    _secret_manager: SecretManager | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> GoogleCloud:
        return cls(
            project=env.get(PROJECT_VARIABLE) or None,
            secret_manager_endpoint=env.get(SECRET_MANAGER_ENDPOINT_VARIABLE) or None,
        )

    def credentials(self, cluster: str) -> Credentials:
        with self._lock:
            if self._credentials is None:
                try:
                    self._credentials = self.credentials_factory()
                except Exception as error:
                    raise connect_error(cluster, "Google credentials", error) from None
            return self._credentials

    def secret_manager(self, cluster: str) -> SecretManager:
        endpoint = self.secret_manager_endpoint
        if endpoint:
            make: Callable[[], SecretManager] = partial(_secret_manager_at, endpoint)
        else:
            make = partial(self.secret_manager_factory, self.credentials(cluster))
        with self._lock:
            if self._secret_manager is None:
                try:
                    self._secret_manager = make()
                except Exception as error:
                    raise connect_error(cluster, "the Secret Manager client", error) from None
            return self._secret_manager

    def access_secret(self, cluster: str, version: str) -> bytes:
        """The payload of the secret version ``version`` (``projects/P/secrets/S/versions/V``),
        read for ``cluster`` within ``timeout``. Raises the client's errors (NotFound,
        PermissionDenied, ...) as they are; :func:`is_transient` sorts them."""
        client = self.secret_manager(cluster)
        response = client.access_secret_version(
            request={"name": version}, retry=_bounded_retry(self.timeout), timeout=self.timeout
        )
        return bytes(response.payload.data)


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed: unreachable, overloaded or timed out, as opposed
    to missing, forbidden or malformed."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth
    from requests import exceptions as http

    if isinstance(error, api.ServerError | api.TooManyRequests | api.RetryError):
        return True
    if isinstance(error, auth.RefreshError):
        return bool(getattr(error, "retryable", False))
    if isinstance(error, auth.DefaultCredentialsError):
        return False
    return isinstance(error, auth.TransportError | http.ConnectionError | http.Timeout)


def connect_error(cluster: str, doing: str, error: BaseException) -> ClusterConnectError:
    """``error`` as a ClusterConnectError, transient or not. Google's messages name resources
    and permissions, never secret payloads or tokens."""
    transient = is_transient(error)
    detail = str(error).strip() or type(error).__name__
    advice = " (will retry)" if transient else ""
    return ClusterConnectError(
        cluster, f"{doing} failed: {type(error).__name__}: {detail}{advice}", transient=transient
    )

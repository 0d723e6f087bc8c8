"""Values and credentials a spec refers to: read from the target cluster's Secrets and ConfigMaps,
or from Google Secret Manager.

Everything read from a Secret (or Secret Manager) is returned alongside as a secret string, so
the caller can scrub it from any error or log line (see :class:`shared.redaction.Redactor`).
A missing object or key is reported as transient: in GitOps a Secret often lands a moment after
the spec that names it, and Pub/Sub's retries (bounded by a dead-letter topic) cover that.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes.client.exceptions import ApiException

from ..errors import GunjError
from ..helm.errors import ClusterUnreachable
from ..helm.fetch import Credentials
from ..kube import ClusterAccess
from ..values.merge import Values
from ..values.plan import values_from_layer
from ..values.spec.common import SecretRef, ValuesFrom


class ValuesSourceError(GunjError):
    """A referenced source cannot be used (not readable by gunj, or not configured)."""


class ValuesSourceMissing(ValuesSourceError):
    """A referenced Secret, ConfigMap, key or Secret Manager version does not exist (yet)."""

    transient = True


class ValuesSourceInvalid(ValuesSourceError):
    """A referenced source exists but does not hold usable values."""


class SecretManagerClient(Protocol):
    """The part of ``google.cloud.secretmanager.SecretManagerServiceClient`` used here."""

    def access_secret_version(self, *, name: str) -> Any: ...


@dataclass
class ResolvedValues:
    layers: list[Values] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


def _secret_strings(text: str) -> list[str]:
    """The value and its lines (a multi-line secret may surface one line at a time)."""
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= 4]
    return [text.strip(), *lines] if text.strip() else []


class SecretSources:
    def __init__(
        self,
        access: ClusterAccess,
        namespace: str,
        secret_manager: SecretManagerClient | None = None,
    ) -> None:
        self.access = access
        self.namespace = namespace
        self.secret_manager = secret_manager

    def _read_cluster(self, kind: str, name: str, key: str) -> str | None:
        try:
            if kind == "Secret":
                data = self.access.core.read_namespaced_secret(name, self.namespace).data or {}
                value = data.get(key)
                return base64.b64decode(value).decode() if value is not None else None
            config_map = self.access.core.read_namespaced_config_map(name, self.namespace)
            return (config_map.data or {}).get(key)
        except ApiException as error:
            if error.status == 404:
                raise ValuesSourceMissing(
                    f"{kind} {self.namespace}/{name} does not exist"
                ) from None
            if error.status in {401, 403}:
                raise ValuesSourceError(
                    f"not allowed to read {kind} {self.namespace}/{name}: {error.reason}"
                ) from None
            raise ClusterUnreachable(
                f"reading {kind} {self.namespace}/{name}: {error.status} {error.reason}"
            ) from None

    def _read_secret_manager(self, uri: str) -> str:
        if self.secret_manager is None:
            raise ValuesSourceError(f"{uri}: no Secret Manager client is configured")
        name = uri.removeprefix("gcpsm://")
        try:
            response = self.secret_manager.access_secret_version(name=name)
        except Exception as error:  # the client's own NotFound, PermissionDenied, ...
            kind = type(error).__name__
            if kind == "NotFound":
                raise ValuesSourceMissing(f"{uri} does not exist") from None
            if kind in {"PermissionDenied", "Unauthenticated"}:
                raise ValuesSourceError(f"{uri}: access denied") from None
            raise ClusterUnreachable(f"{uri}: Secret Manager failed: {kind}") from None
        payload: bytes = response.payload.data
        return payload.decode()

    def _read(self, reference: ValuesFrom) -> str:
        if reference.kind == "GoogleSecretManager":
            assert reference.uri is not None  # noqa: S101 - the model guarantees it
            return self._read_secret_manager(reference.uri)
        assert reference.name is not None  # noqa: S101 - the model guarantees it
        content = self._read_cluster(reference.kind, reference.name, reference.key)
        if content is None:
            raise ValuesSourceMissing(f"{reference.describe()}: no such key")
        return content

    def values(self, references: Sequence[ValuesFrom]) -> ResolvedValues:
        """One values layer per reference, in order (optional ones that are missing give none)."""
        resolved = ResolvedValues()
        for reference in references:
            try:
                content = self._read(reference)
            except ValuesSourceMissing:
                if reference.optional:
                    continue
                raise
            if reference.kind != "ConfigMap":
                resolved.secrets += _secret_strings(content)
            try:
                resolved.layers.append(values_from_layer(reference, content))
            except ValueError as error:
                raise ValuesSourceInvalid(str(error)) from None
        return resolved

    def credentials(self, reference: SecretRef) -> Credentials:
        """Repository credentials: keys ``username`` and ``password`` of a Secret."""
        username = self._read_cluster("Secret", reference.name, "username")
        password = self._read_cluster("Secret", reference.name, "password")
        if username is None or password is None:
            raise ValuesSourceMissing(
                f"Secret {self.namespace}/{reference.name} needs keys username and password"
            )
        return Credentials(username, password)

"""Values and credentials a spec refers to: read from the target cluster's Secrets and ConfigMaps,
or from Google Secret Manager.

Everything read from a Secret (or Secret Manager) is returned alongside as secret strings (the
content whole, and each value of a YAML document on its own), so the caller can scrub it from
any error or log line (see :class:`shared.redaction.Redactor`). Content that cannot be used is
refused naming the field and the source, never quoting the content.
A missing object or key is reported as transient: in GitOps a Secret often lands a moment after
the spec that names it, and Pub/Sub's retries (bounded by a dead-letter topic) cover that.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import GunjError
from ..helm.errors import ClusterUnreachable
from ..helm.fetch import Credentials
from ..kube import ClusterAccess
from ..kube.errors import ApiError, ApiForbidden, ApiNotFound, ApiUnavailable
from ..redaction import Redactor
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


# A value of a YAML document of secrets shorter than this is not scrubbed on its own. Such a
# document holds settings beside its secrets ("true", "2d", "8080", "info"), and scrubbing every
# occurrence of so short a text mangles ordinary messages (a one-character value wipes that
# character everywhere) and, by where the "***" lands, shows what the value is. Passwords and
# tokens are longer; a value that must stay hidden whatever its length is read with targetPath,
# which scrubs it whole. (The whole document is always scrubbed.)
MINIMUM_SECRET_VALUE_LENGTH = 6


@dataclass
class ResolvedValues:
    layers: list[Values] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list, repr=False)
    """Secret values, each scrubbed whole and (a multi-line one) line by line."""
    documents: list[str] = field(default_factory=list, repr=False)
    """YAML documents of secrets, scrubbed whole only: their values are in ``secrets``, and
    their other lines are keys and structure."""

    def add(self, reference: ValuesFrom, content: str, where: str) -> None:
        """The layer of one entry (``where``: its field, to name in an error) and its secrets."""
        try:
            layer = values_from_layer(reference, content)
        except ValueError as error:
            raise ValuesSourceInvalid(f"{where}: {error}") from None
        self.layers.append(layer)
        if reference.kind == "ConfigMap":
            return
        if reference.target_path:
            self.secrets.append(content)
            return
        self.documents.append(content)
        self.secrets += [
            text for text in _leaf_texts(layer) if len(text.strip()) >= MINIMUM_SECRET_VALUE_LENGTH
        ]

    def register(self, redactor: Redactor) -> None:
        redactor.add(*self.secrets)
        redactor.add(*self.documents, lines=False)


def _leaf_texts(node: object) -> Iterator[str]:
    """Every scalar value in a parsed document, as the text a template renders it to (keys are
    names, not secrets; true, false and null are one bit at most)."""
    if isinstance(node, Mapping):
        for value in node.values():
            yield from _leaf_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _leaf_texts(item)
    elif node is not None and not isinstance(node, bool):
        yield str(node)


def _text(content: bytes, secret: str, key: str) -> str:
    try:
        return content.decode()
    except UnicodeDecodeError:
        # Where it fails, never what: the bytes are the secret's.
        raise ValuesSourceInvalid(f"Secret {secret} key {key} is not UTF-8 text") from None


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
                return _text(base64.b64decode(value), name, key) if value is not None else None
            config_map = self.access.core.read_namespaced_config_map(name, self.namespace)
            return (config_map.data or {}).get(key)
        except ApiNotFound:
            raise ValuesSourceMissing(f"{kind} {self.namespace}/{name} does not exist") from None
        except ApiForbidden as error:
            raise ValuesSourceError(
                f"not allowed to read {kind} {self.namespace}/{name}: {error.reason}"
            ) from None
        except ApiUnavailable as error:
            raise error.doing(f"reading {kind} {self.namespace}/{name}") from None
        except ApiError as error:
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

    def values(
        self, references: Sequence[ValuesFrom], *, field: str = "valuesFrom"
    ) -> ResolvedValues:
        """One values layer per reference, in order (optional ones that are missing give none);
        ``field`` is where the references are in the spec, to name in an error."""
        resolved = ResolvedValues()
        for index, reference in enumerate(references):
            try:
                content = self._read(reference)
            except ValuesSourceMissing:
                if reference.optional:
                    continue
                raise
            resolved.add(reference, content, f"{field}[{index}]")
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

"""Values and credentials a spec refers to: read from the target cluster's Secrets and ConfigMaps,
or from Google Secret Manager.

Everything read from a Secret (or Secret Manager) is returned alongside as secret strings (the
content whole, and each value of a YAML document on its own), so the caller can scrub it from
any error or log line (see :class:`shared.redaction.Redactor`). Content that cannot be used is
refused naming the field and the source, never quoting the content.
A missing object or key is reported as transient: in GitOps a Secret often lands a moment after
the spec that names it, and Pub/Sub's retries (bounded by a dead-letter topic) cover that.

Secret Manager versions are read only where the cluster's registry entry allows them
(:mod:`shared.clusters.secretgrant`): any other is refused, naming the field, before Secret
Manager is asked.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ..clusters.errors import SecretNotGranted
from ..clusters.secretgrant import GrantedSecrets
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


class ValuesSourceRefused(ValuesSourceError):
    """A referenced source this cluster does not let its specs read."""


@dataclass
class ResolvedValues:
    layers: list[Values] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list, repr=False)
    """Secret values read whole (``targetPath``), each scrubbed whole (as a word of its own
    when short) and (a multi-line one) line by line."""
    values: list[str] = field(default_factory=list, repr=False)
    """The values of YAML documents of secrets, whatever their length: a short one is scrubbed
    only where it stands as a value (such a document holds settings beside its secrets,
    "2d", "info", which are a message's own words as often)."""
    documents: list[str] = field(default_factory=list, repr=False)
    """YAML documents of secrets, scrubbed whole only: their values are in ``values``, and
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
        self.values += list(_leaf_texts(layer))

    def register(self, redactor: Redactor) -> None:
        redactor.add(*self.secrets)
        redactor.add_values(*self.values)
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
        secret_manager: GrantedSecrets | None = None,
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

    def _read_secret_manager(self, uri: str, where: str) -> str:
        version = uri.removeprefix("gcpsm://")
        if self.secret_manager is None:
            raise ValuesSourceRefused(f"{where}: {uri}: no Secret Manager secret is allowed here")
        try:
            payload = self.secret_manager.read(version)
        except SecretNotGranted as refused:
            raise ValuesSourceRefused(f"{where}: {uri}: {refused}") from None
        except GunjError as error:  # no Google credentials, no client
            failure = ValuesSourceError(f"{where}: {uri}: {error}")
            failure.transient = error.transient
            raise failure from None
        except Exception as error:  # the client's own NotFound, PermissionDenied, ...
            raise _secret_manager_error(uri, where, error) from None
        try:
            return payload.decode()
        except UnicodeDecodeError:
            # Where it fails, never what: the bytes are the secret's.
            raise ValuesSourceInvalid(f"{where}: {uri} is not UTF-8 text") from None

    def _read(self, reference: ValuesFrom, where: str) -> str:
        if reference.kind == "GoogleSecretManager":
            assert reference.uri is not None  # noqa: S101 - the model guarantees it
            return self._read_secret_manager(reference.uri, where)
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
            where = f"{field}[{index}]"
            try:
                content = self._read(reference, where)
            except ValuesSourceMissing:
                if reference.optional:
                    continue
                raise
            resolved.add(reference, content, where)
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


def _secret_manager_error(uri: str, where: str, error: Exception) -> GunjError:
    """A failure of Secret Manager's client, by its kind: missing (transient, as a Secret that
    lands after its spec), not allowed for the function's identity (permanent), or
    unreachable (transient). Google's messages name the resource, never its payload."""
    from ..clusters.google import is_transient

    kind = type(error).__name__
    if kind == "NotFound":
        return ValuesSourceMissing(f"{where}: {uri} does not exist")
    if kind in {"PermissionDenied", "Unauthenticated"}:
        return ValuesSourceError(
            f"{where}: {uri}: access denied (the function's identity needs "
            "roles/secretmanager.secretAccessor on the secret)"
        )
    failure = ValuesSourceError(f"{where}: {uri}: Secret Manager failed: {kind}: {error}")
    failure.transient = is_transient(error)
    return failure

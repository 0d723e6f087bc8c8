"""Kubeconfig documents: reading the few parts the registry checks (contexts, credentials),
building one for a bearer token, and keeping one on disk only as long as it is needed.

Kubeconfig content is treated as a secret throughout: a parse error reports the field, line and
column only (PyYAML's own message quotes the offending line, which may hold a token), and the
credential strings in it are collected so callers can scrub them from any error.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import yaml

from ..documents import MIB, DocumentError, DocumentLimits, load_document

# Fields of a kubeconfig user (and of a legacy auth-provider's config) that hold credentials.
_USER_SECRETS = ("token", "password", "client-key-data", "client-certificate-data")
_PROVIDER_SECRETS = ("access-token", "refresh-token", "id-token", "client-secret")


class KubeconfigProblem(ValueError):
    """A kubeconfig that cannot be used; the message carries none of its content."""


KUBECONFIG_DOCUMENT = DocumentLimits(
    max_bytes=4 * MIB, max_size=4 * MIB, max_nodes=100_000, max_depth=16, max_string=MIB
)
"""How a kubeconfig is read (:mod:`shared.documents`): JSON types, no duplicate keys, bounded."""


def parse(text: str, origin: str) -> dict[str, Any]:
    try:
        document = load_document(text, KUBECONFIG_DOCUMENT)
    except DocumentError as error:
        raise KubeconfigProblem(f"{origin} cannot be read: {error}") from None
    if not isinstance(document, dict):
        raise KubeconfigProblem(f"{origin} is not a kubeconfig (expected a mapping)")
    return document


def _named(config: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for item in config.get(section) or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            body = item.get(section.rstrip("s"))
            found[item["name"]] = body if isinstance(body, dict) else {}
    return found


def contexts(config: dict[str, Any]) -> list[str]:
    return sorted(_named(config, "contexts"))


def current_context(config: dict[str, Any]) -> str | None:
    value = config.get("current-context")
    return value if isinstance(value, str) and value else None


def current_context_of(path: Path) -> str:
    """The current context of a kubeconfig file (how a stack's own kubeconfig is registered)."""
    context = current_context(parse(path.read_text(), str(path)))
    if context is None:
        raise KubeconfigProblem(f"{path} has no current-context")
    return context


def resolve_context(config: dict[str, Any], context: str | None, origin: str) -> str:
    """The context a client will use: the one named, else the document's current context."""
    chosen = context or current_context(config)
    if chosen is None:
        raise KubeconfigProblem(f"{origin} has no current-context; name a context")
    known = contexts(config)
    if chosen not in known:
        raise KubeconfigProblem(
            f"{origin} has no context {chosen!r} (it has: {', '.join(known) or 'none'})"
        )
    return chosen


def plugin_of(config: dict[str, Any], context: str) -> str | None:
    """How the user of ``context`` gets credentials from a program, if it does: a Cloud
    Function cannot run ``gke-gcloud-auth-plugin``, ``gcloud`` or ``aws``."""
    user_name = _named(config, "contexts").get(context, {}).get("user")
    user = _named(config, "users").get(user_name, {}) if isinstance(user_name, str) else {}
    exec_config = user.get("exec")
    if isinstance(exec_config, dict):
        return f"exec credential plugin {exec_config.get('command')!r}"
    provider = user.get("auth-provider")
    if isinstance(provider, dict):
        return f"auth-provider {provider.get('name')!r}"
    return None


def credentials_in(config: dict[str, Any]) -> tuple[str, ...]:
    """Every credential string the document holds, to be scrubbed from errors and output: the
    users' tokens, passwords and client keys (the key's PEM too), never a name or an address."""
    found: list[str] = []
    for user in _named(config, "users").values():
        found += [user[key] for key in _USER_SECRETS if isinstance(user.get(key), str)]
        key_data = user.get("client-key-data")
        if isinstance(key_data, str):
            found += _decoded(key_data)
        provider = user.get("auth-provider")
        settings = provider.get("config") if isinstance(provider, dict) else None
        if isinstance(settings, dict):
            found += [settings[k] for k in _PROVIDER_SECRETS if isinstance(settings.get(k), str)]
    return tuple(value for value in found if value)


def _decoded(data: str) -> list[str]:
    """The PEM text base64 ``data`` holds (an error may quote the key itself), if any."""
    try:
        return [base64.b64decode(data, validate=True).decode()]
    except (binascii.Error, ValueError):
        return []


def bearer(context: str, server: str, ca_data: str | None, token: str) -> str:
    """A kubeconfig reaching ``server`` with ``token``, trusting only ``ca_data`` (base64 PEM)
    when given, else the system's certificate authorities."""
    cluster: dict[str, str] = {"server": server}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }
    return yaml.safe_dump(document, sort_keys=False)


class PrivateKubeconfig:
    """A kubeconfig written to a folder only this user can read (0700, the file 0600), removed
    by ``remove()`` or, at the latest, when the object is collected or the process exits."""

    def __init__(self, content: str, stem: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="gunj-kube-"))
        self.path = self.folder / f"{stem}.kubeconfig"
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.folder, True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)

    def remove(self) -> None:
        self._finalizer()

    def __repr__(self) -> str:
        return f"PrivateKubeconfig({str(self.path)!r})"

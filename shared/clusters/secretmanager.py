"""A cluster reached through a kubeconfig kept in Secret Manager (the secrets the Terraform
module creates, ``<prefix>-kubeconfig-<cluster>``), read with the function's own identity.

The kubeconfig is written to a private temporary file for the connection's lifetime; its
content and every credential in it are the connection's ``secrets``. A kubeconfig whose user
runs a credential plugin (``gke-gcloud-auth-plugin``, ``aws``) is refused: a Cloud Function has
no such program; register such a GKE cluster as ``gke`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from .connection import ClusterConnection
from .errors import ClusterConnectError
from .google import GoogleCloud, connect_error
from .kubeconfig import (
    KubeconfigProblem,
    PrivateKubeconfig,
    credentials_in,
    parse,
    plugin_of,
    resolve_context,
)

_FULL_NAME = re.compile(r"projects/[^/]+/secrets/[^/]+(/versions/[^/]+)?")
_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def secret_version(secret: str, project: str | None) -> str:
    """The version resource name of ``secret``: ``projects/P/secrets/S[/versions/V]`` as
    given (version ``latest`` unless named), or a bare secret ID in ``project``."""
    if _FULL_NAME.fullmatch(secret):
        return secret if "/versions/" in secret else f"{secret}/versions/latest"
    if not _SECRET_ID.fullmatch(secret):
        raise ValueError(
            "must be a secret ID or projects/PROJECT/secrets/SECRET[/versions/VERSION]"
        )
    if not project:
        raise ValueError(
            f"{secret!r} names no project: write projects/PROJECT/secrets/{secret} or set "
            "GUNJ_PROJECT"
        )
    return f"projects/{project}/secrets/{secret}/versions/latest"


@dataclass(frozen=True)
class SecretKubeconfig:
    kind: ClassVar[str] = "secret"
    version: str
    context: str | None = None

    def describe(self) -> str:
        context = f" (context {self.context})" if self.context else ""
        return f"{self.version}{context}"

    def connect(self, cluster: str, cloud: GoogleCloud) -> ClusterConnection:
        try:
            payload = cloud.access_secret(cluster, self.version)
        except ClusterConnectError:  # no credentials, no client: said already
            raise
        except Exception as error:
            raise connect_error(cluster, f"reading secret {self.version}", error) from None
        origin = f"the kubeconfig in secret {self.version}"
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise ClusterConnectError(cluster, f"{origin} is not UTF-8 text") from None
        try:
            config = parse(text, origin)
            context = resolve_context(config, self.context, origin)
        except KubeconfigProblem as problem:
            raise ClusterConnectError(cluster, str(problem)) from None
        plugin = plugin_of(config, context)
        if plugin is not None:
            raise ClusterConnectError(
                cluster,
                f"{origin} gets its credentials from an {plugin}, which a Cloud Function "
                "cannot run: store a kubeconfig with a token or client certificate, or "
                "register the cluster as gke",
            )
        private = PrivateKubeconfig(text, cluster)
        return ClusterConnection(
            name=cluster,
            kubeconfig=private.path,
            context=context,
            secrets=credentials_in(config),
            documents=(text,),
            _private=private,
        )

"""A reconciler for a registered cluster: connected through the registry (a kubeconfig file,
Secret Manager or GKE), configured from an environment (the process's by default), the
connection's own secrets (tokens, kubeconfig content) known to the redactor from the start, and
templates allowed only where the registry entry says so."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..clusters import ClusterConnection, RegisteredCluster
from ..helm.repositories import RepositorySettings
from ..redaction import Redactor
from .reconciler import Reconciler
from .settings import EngineSettings


def reconciler_for(
    cluster: RegisteredCluster,
    env: Mapping[str, str] | None = None,
    *,
    connection: ClusterConnection | None = None,
) -> Reconciler:
    env = os.environ if env is None else env
    connection = connection or cluster.connect()
    return Reconciler(
        cluster.name,
        connection.access(),
        EngineSettings.from_environment(env),
        repositories=RepositorySettings.from_environment(env),
        redactor=Redactor(connection.secrets),
        allow_templates=cluster.allow_templates,
        tenancy=cluster.tenancy,
        keep_alive=connection,
    )

"""A reconciler for a registered cluster: connected through the registry (a kubeconfig file,
Secret Manager or GKE), configured from an environment (the process's by default), the
connection's own secrets (tokens, client keys, the kubeconfig's whole content, but not its
names and addresses) known to the redactor from the start, and templates and Secret Manager
secrets allowed only where the registry entry says so."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..clusters import ClusterConnection, RegisteredCluster
from ..helm.repositories import RepositorySettings
from ..redaction import Redactor
from .quarantine import FleetHolds
from .reconciler import Reconciler
from .settings import EngineSettings


def reconciler_for(
    cluster: RegisteredCluster,
    env: Mapping[str, str] | None = None,
    *,
    connection: ClusterConnection | None = None,
    fleet: FleetHolds | None = None,
) -> Reconciler:
    env = os.environ if env is None else env
    connection = connection or cluster.connect()
    redactor = Redactor(connection.secrets)
    redactor.add(*connection.documents, lines=False)
    return Reconciler(
        cluster.name,
        connection.access(),
        EngineSettings.from_environment(env),
        repositories=RepositorySettings.from_environment(env),
        redactor=redactor,
        allow_templates=cluster.allow_templates,
        tenancy=cluster.tenancy,
        secret_grant=cluster.secret_grant,
        cloud=cluster.cloud,
        keep_alive=connection,
        fleet=fleet,
    )

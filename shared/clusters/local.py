"""A cluster reached through a kubeconfig file on this machine, with a named context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .connection import ClusterConnection
from .errors import ClusterConnectError
from .google import GoogleCloud
from .kubeconfig import KubeconfigProblem, credentials_in, parse, resolve_context


@dataclass(frozen=True)
class KubeconfigFile:
    kind: ClassVar[str] = "kubeconfig"
    path: Path
    context: str

    def describe(self) -> str:
        return f"{self.path} (context {self.context})"

    def connect(self, cluster: str, cloud: GoogleCloud) -> ClusterConnection:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            raise ClusterConnectError(
                cluster, f"field 'kubeconfig': {self.path} does not exist"
            ) from None
        except (OSError, UnicodeDecodeError) as error:
            raise ClusterConnectError(
                cluster, f"field 'kubeconfig': cannot read {self.path}: {type(error).__name__}"
            ) from None
        try:
            config = parse(text, str(self.path))
        except KubeconfigProblem as problem:
            raise ClusterConnectError(cluster, f"field 'kubeconfig': {problem}") from None
        try:
            context = resolve_context(config, self.context, str(self.path))
        except KubeconfigProblem as problem:
            raise ClusterConnectError(cluster, f"field 'context': {problem}") from None
        return ClusterConnection(
            name=cluster,
            kubeconfig=self.path,
            context=context,
            secrets=credentials_in(config),
            documents=(text,),
        )

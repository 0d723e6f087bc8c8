"""Which object: its API version, kind, namespace (None for a cluster-scoped one) and name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectKey:
    api_version: str
    kind: str
    namespace: str | None
    """None for a cluster-scoped object."""
    name: str

    def describe(self) -> str:
        """``Kind name``, as a person names it within its platform's namespace."""
        return f"{self.kind} {self.name}"

    def where(self) -> str:
        """``Kind namespace/name`` (``Kind name`` for a cluster-scoped object)."""
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else self.describe()

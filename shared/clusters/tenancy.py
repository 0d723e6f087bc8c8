"""Which namespaces of a cluster may hold platforms, and whose rights a platform's work uses.

A registry entry may name both:

```yaml
prod-eu:
  secret: projects/acme/secrets/gunj-kubeconfig-prod-eu
  namespaces: [observability, "team-*"]   # platforms anywhere else are refused
  serviceAccount: gunj-platform           # every call for a platform in namespace N acts as
                                          # system:serviceaccount:N:gunj-platform
```

With ``serviceAccount`` every Kubernetes request and every Helm process for a platform
impersonates that ServiceAccount of the platform's own namespace (as Flux does with a
HelmRelease's ``serviceAccountName``), so the cluster's RBAC, not gunj, decides what a spec may
create: ``gunj clusters rbac`` prints the Roles a platform needs. Without it gunj acts with the
registry's own credentials, and a platform's status says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from .errors import NamespaceNotAllowed

if TYPE_CHECKING:
    from ..kube import ClusterAccess

# A ServiceAccount name (a DNS-1123 subdomain), and a pattern of namespace names.
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_PATTERN = re.compile(r"[a-z0-9*?]([-a-z0-9*?]{0,61}[a-z0-9*?])?")

OWN_CREDENTIALS = "the cluster registry's own credentials (no serviceAccount is registered)"
"""What a platform's status says it acted as, on a cluster with no identity to impersonate."""


@dataclass(frozen=True)
class Tenancy:
    namespaces: tuple[str, ...] = ()
    """Patterns (``*`` and ``?``) of the namespaces that may hold platforms; empty: any."""
    service_account: str | None = None
    """The ServiceAccount, in each platform's namespace, whose rights the platform's work has."""

    def allows(self, namespace: str) -> bool:
        return not self.namespaces or any(fnmatchcase(namespace, p) for p in self.namespaces)

    def refusal(self, cluster: str, namespace: str) -> str | None:
        """Why a platform in ``namespace`` may not be reconciled on ``cluster`` (None: it may)."""
        if self.allows(namespace):
            return None
        return (
            f"cluster {cluster!r} does not allow platforms in namespace {namespace!r} "
            f"(its registry entry allows: {', '.join(self.namespaces)})"
        )

    def access_in(self, own: ClusterAccess, cluster: str, namespace: str) -> ClusterAccess:
        """How work for a platform in ``namespace`` reaches the cluster: as the namespace's
        ServiceAccount (``own``, without one). NamespaceNotAllowed where the registry allows
        no platform."""
        if (refusal := self.refusal(cluster, namespace)) is not None:
            raise NamespaceNotAllowed(refusal)
        user = self.user(namespace)
        return own if user is None or own.acting_as == user else own.as_user(user)

    def user(self, namespace: str) -> str | None:
        """The user a platform's work in ``namespace`` acts as (None: the registry's own)."""
        if self.service_account is None:
            return None
        return f"system:serviceaccount:{namespace}:{self.service_account}"

    def acting_as(self, namespace: str) -> str:
        """Whose rights a platform's work in ``namespace`` has, as its status says it."""
        return self.user(namespace) or OWN_CREDENTIALS

    def describe(self) -> str:
        where = ", ".join(self.namespaces) if self.namespaces else "any namespace"
        who = (
            f"as ServiceAccount {self.service_account} of each platform's namespace"
            if self.service_account
            else "with the registry's own credentials"
        )
        return f"{where}; {who}"


def parse_tenancy(entry: dict[str, Any], problems: list[str]) -> Tenancy:
    """The ``namespaces`` and ``serviceAccount`` fields of a registry entry (problems named)."""
    patterns: list[str] = []
    value = entry.get("namespaces", [])
    if not isinstance(value, list):
        problems.append("field 'namespaces': must be a list of namespaces (patterns with * or ?)")
    else:
        for index, pattern in enumerate(value):
            if not isinstance(pattern, str) or not _PATTERN.fullmatch(pattern):
                problems.append(
                    f"field 'namespaces[{index}]': {pattern!r} is not a namespace or a pattern "
                    "of one (lower-case letters, digits, '-', '*' and '?')"
                )
            elif pattern not in patterns:
                patterns.append(pattern)
    account = entry.get("serviceAccount")
    if account is not None and (not isinstance(account, str) or not _SUBDOMAIN.fullmatch(account)):
        problems.append(
            f"field 'serviceAccount': {account!r} is not a ServiceAccount name "
            "(lower-case letters, digits, '-' and '.')"
        )
        account = None
    return Tenancy(tuple(patterns), account)

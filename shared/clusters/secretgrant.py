"""The Secret Manager secrets a cluster's specs may read through ``valuesFrom`` (kind
``GoogleSecretManager``): the registry entry's ``secretManager`` field.

```yaml
prod-eu:
  gke: {project: acme, location: europe-west1, name: prod-eu}
  secretManager:
    project: acme-observability        # the only project its specs may read from
    secrets: [grafana-smtp, prod-eu-*]  # secret IDs; a trailing * makes a prefix
```

Whoever may publish a spec for a cluster reads, through the function's identity, only these
secrets: without the field, none. A reference to any other (another project, another secret,
the kubeconfig secrets the registry itself reads) is refused before Secret Manager is asked. A
bare ``*`` is refused: it would hand every secret of the project, the clusters' kubeconfigs
among them, to everyone who can publish a spec. :class:`GrantedSecrets` reads the allowed ones
with the registry's Google client (made on first use; every call bounded by its timeout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import SecretNotGranted
from .google import GoogleCloud

FIELD = "secretManager"
FIELDS = ("project", "secrets")
_PROJECT = re.compile(r"[a-z0-9-]{4,30}")
_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}\*?")
_VERSION = re.compile(
    r"projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)"
)


@dataclass(frozen=True)
class SecretGrant:
    project: str
    secrets: tuple[str, ...]
    """Secret IDs; one ending in ``*`` allows every secret whose ID starts with the rest."""

    def allows(self, project: str, secret: str) -> bool:
        if project != self.project:
            return False
        return any(
            secret.startswith(pattern[:-1]) if pattern.endswith("*") else secret == pattern
            for pattern in self.secrets
        )

    def describe(self) -> str:
        return f"project {self.project}: {', '.join(self.secrets)}"


def refusal(grant: SecretGrant | None, cluster: str, version: str) -> str | None:
    """Why the specs of ``cluster`` may not read the secret version ``version``
    (``projects/P/secrets/S/versions/V``), or None when they may."""
    found = _VERSION.fullmatch(version)
    if found is None:
        return f"{version} is not a Secret Manager version name"
    if grant is None:
        return (
            f"cluster {cluster!r} allows no Secret Manager secrets (field {FIELD!r} of its "
            "registry entry names the ones its specs may read)"
        )
    if not grant.allows(found["project"], found["secret"]):
        return (
            f"secret {found['secret']} of project {found['project']} is not allowed on cluster "
            f"{cluster!r} (field '{FIELD}' of its registry entry allows {grant.describe()})"
        )
    return None


@dataclass(frozen=True)
class GrantedSecrets:
    """What the specs of one cluster may read from Secret Manager, and the reading."""

    cluster: str
    grant: SecretGrant | None
    cloud: GoogleCloud = field(default_factory=GoogleCloud, repr=False, compare=False)

    def refusal(self, version: str) -> str | None:
        return refusal(self.grant, self.cluster, version)

    def read(self, version: str) -> bytes:
        """The payload of ``version``; SecretNotGranted (before any call) when it is not
        allowed, else the client's own errors as they are."""
        if (problem := self.refusal(version)) is not None:
            raise SecretNotGranted(problem)
        return self.cloud.access_secret(self.cluster, version)


def parse_grant(value: Any, problems: list[str]) -> SecretGrant | None:
    """The ``secretManager`` field of a registry entry, or None with ``problems`` added."""
    if not isinstance(value, dict):
        problems.append(f"field {FIELD!r}: must be a mapping with project and secrets")
        return None
    found = [
        f"field '{FIELD}.{key}': unknown (known: {', '.join(FIELDS)})"
        for key in value
        if key not in FIELDS
    ]
    project = value.get("project")
    if not isinstance(project, str) or not _PROJECT.fullmatch(project):
        found.append(
            f"field '{FIELD}.project': must be a project ID (4 to 30 lower-case letters, "
            "digits or '-')"
        )
    secrets = value.get("secrets")
    if not isinstance(secrets, list) or not secrets:
        found.append(f"field '{FIELD}.secrets': must be a non-empty list of secret IDs")
        secrets = []
    for index, pattern in enumerate(secrets):
        if pattern == "*":
            found.append(
                f"field '{FIELD}.secrets[{index}]': '*' would allow every secret of the "
                "project (the clusters' kubeconfigs too); name the secrets, or a prefix "
                "such as grafana-*"
            )
        elif not isinstance(pattern, str) or not _PATTERN.fullmatch(pattern):
            found.append(
                f"field '{FIELD}.secrets[{index}]': {pattern!r} is not a secret ID (letters, "
                "digits, '_' or '-'), optionally ending in * for a prefix"
            )
    problems += found
    if found:
        return None
    assert isinstance(project, str)  # noqa: S101 - checked above
    return SecretGrant(project, tuple(dict.fromkeys(secrets)))

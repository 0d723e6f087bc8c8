"""The registry document: a mapping of cluster names to how each is reached (every field is
described in docs/clusters.md).

```yaml
local:                      # a kubeconfig file and a context
  kubeconfig: ~/.cache/gunj/stacks/local/kwok/clusters/gunj/kubeconfig.yaml
  context: kwok-gunj
prod-eu:                    # a kubeconfig kept in Secret Manager
  secret: projects/acme/secrets/gunj-kubeconfig-prod-eu
  aliases: [prod-eu-west1]
prod-us:                    # a GKE cluster, reached with the caller's own Google identity
  gke: {project: acme, location: us-east1, name: prod-us-1}
  allowTemplates: true
  namespaces: [observability, "team-*"]   # platforms only there
  serviceAccount: gunj-platform           # each platform's work acts as this ServiceAccount
  secretManager:            # the Secret Manager secrets its specs' valuesFrom may read
    project: acme
    secrets: [grafana-smtp, prod-us-*]
  alertTokens: [sha256:5f0c...e1a2]   # hashes of the Alertmanager tokens that may act on it
  wave: canary              # its rollout wave (see waves.py; default: the last wave)
```

Each entry has exactly one of ``kubeconfig`` (with ``context``), ``secret`` (optionally with
``context``) or ``gke``; ``namespaces`` and ``serviceAccount`` are :mod:`.tenancy`. Every problem
is reported at once, naming the cluster and field. Relative kubeconfig paths are relative to the
registry file's folder. ``secretManager`` may not allow a secret the registry reads a kubeconfig
from (:mod:`.secretgrant`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..documents import KIB, MIB, DocumentError, DocumentLimits, load_document
from .alerttokens import FIELD as ALERT_TOKENS
from .alerttokens import parse_alert_tokens
from .gke import ENDPOINTS, GkeCluster
from .google import GoogleCloud
from .local import KubeconfigFile
from .registered import KINDS, RegisteredCluster, Target
from .secretgrant import FIELD as SECRET_GRANT
from .secretgrant import SecretGrant, parse_grant
from .secretmanager import SecretKubeconfig, secret_version
from .tenancy import parse_tenancy

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
FIELDS = (
    *KINDS,
    "context",
    "aliases",
    "allowTemplates",
    "namespaces",
    "serviceAccount",
    SECRET_GRANT,
    ALERT_TOKENS,
    "wave",
)
GKE_FIELDS = ("project", "location", "name", "endpoint")


REGISTRY_DOCUMENT = DocumentLimits(
    max_bytes=4 * MIB,
    max_size=4 * MIB,
    max_nodes=200_000,
    max_depth=16,
    max_string=64 * KIB,
    max_number=40,
)
"""How the registry is read (:mod:`shared.documents`): duplicate keys, tags other than JSON
types and documents beyond these limits are refused."""


def load_yaml(text: str) -> tuple[dict[str, Any], list[str]]:
    """The document as a mapping, or the problems that make it unreadable."""
    try:
        document = load_document(text, REGISTRY_DOCUMENT)
    except DocumentError as error:
        return {}, [str(error)]
    if document is None:
        return {}, []
    if not isinstance(document, dict):
        return {}, ["must be a mapping of cluster names to clusters"]
    return document, []


def parse(
    document: dict[str, Any], base: Path | None, cloud: GoogleCloud
) -> tuple[list[RegisteredCluster], list[str]]:
    clusters: list[RegisteredCluster] = []
    problems: list[str] = []
    for name, entry in document.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.append(
                f"cluster {name!r}: a name is 1 to 63 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
            continue
        cluster, found = _entry(name, entry, base, cloud)
        problems += [f"cluster {name!r}: {problem}" for problem in found]
        if cluster is not None:
            clusters.append(cluster)
    problems += _clashes(clusters)
    problems += _granted_kubeconfigs(clusters)
    return clusters, problems


def _entry(
    name: str, entry: Any, base: Path | None, cloud: GoogleCloud
) -> tuple[RegisteredCluster | None, list[str]]:
    if not isinstance(entry, dict):
        return None, [f"must be a mapping with one of the fields {', '.join(KINDS)}"]
    problems = [
        f"unknown field {key!r} (known: {', '.join(FIELDS)})" for key in entry if key not in FIELDS
    ]
    kinds = [kind for kind in KINDS if kind in entry]
    if len(kinds) != 1:
        problems.append(
            f"give exactly one of the fields {', '.join(KINDS)}"
            + (f" (found {', '.join(kinds)})" if kinds else "")
        )
    aliases = _aliases(entry.get("aliases", []), name, problems)
    allow_templates = entry.get("allowTemplates", False)
    if not isinstance(allow_templates, bool):
        problems.append("field 'allowTemplates': must be true or false")
    tenancy = parse_tenancy(entry, problems)
    grant: SecretGrant | None = None
    if SECRET_GRANT in entry:
        grant = parse_grant(entry[SECRET_GRANT], problems)
    alert_tokens = parse_alert_tokens(entry.get(ALERT_TOKENS, []), problems)
    wave = entry.get("wave")
    if wave is not None and not (isinstance(wave, str) and NAME.fullmatch(wave)):
        problems.append(
            f"field 'wave': {wave!r} is not a wave name (1 to 63 letters, digits, '.', '_' or '-')"
        )
    target = (
        _target(name, kinds[0], entry, base=base, cloud=cloud, problems=problems)
        if len(kinds) == 1
        else None
    )
    if problems or target is None:
        return None, problems
    return (
        RegisteredCluster(
            name,
            target,
            aliases,
            allow_templates,
            tenancy,
            cloud,
            secret_grant=grant,
            alert_tokens=alert_tokens,
            wave=wave,
        ),
        [],
    )


def _aliases(value: Any, name: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        problems.append("field 'aliases': must be a list of names")
        return ()
    aliases: list[str] = []
    for index, alias in enumerate(value):
        if not isinstance(alias, str) or not NAME.fullmatch(alias):
            problems.append(
                f"field 'aliases[{index}]': {alias!r} is not a name (1 to 63 letters, digits, "
                "'.', '_' or '-')"
            )
        elif alias != name and alias not in aliases:
            aliases.append(alias)
    return tuple(aliases)


def _string(entry: dict[str, Any], field: str, problems: list[str]) -> str | None:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"field {field!r}: must be a non-empty string")
        return None
    return value.strip()


def _target(
    name: str,
    kind: str,
    entry: dict[str, Any],
    *,
    base: Path | None,
    cloud: GoogleCloud,
    problems: list[str],
) -> Target | None:
    context = entry.get("context")
    if context is not None and (not isinstance(context, str) or not context):
        problems.append("field 'context': must be a non-empty string")
        return None
    if kind == "kubeconfig":
        return _kubeconfig_file(entry, base, problems)
    if "context" in entry and kind == "gke":
        problems.append("field 'context': not used with gke (the kubeconfig is built for it)")
    if kind == "secret":
        secret = _string(entry, "secret", problems)
        if secret is None:
            return None
        try:
            return SecretKubeconfig(secret_version(secret, cloud.project), context)
        except ValueError as error:
            problems.append(f"field 'secret': {error}")
            return None
    return _gke(entry.get("gke"), name, problems)


def _kubeconfig_file(
    entry: dict[str, Any], base: Path | None, problems: list[str]
) -> KubeconfigFile | None:
    path = _string(entry, "kubeconfig", problems)
    context = entry.get("context")
    if context is None:
        problems.append(
            "field 'context': required with kubeconfig, so that changing the file's "
            "current-context cannot switch clusters"
        )
    if path is None or not isinstance(context, str):
        return None
    resolved = Path(path).expanduser()
    if not resolved.is_absolute():
        if base is None:
            problems.append(f"field 'kubeconfig': {path!r} must be an absolute path")
            return None
        resolved = base / resolved
    return KubeconfigFile(resolved, context)


def _gke(value: Any, cluster: str, problems: list[str]) -> GkeCluster | None:
    """``name`` defaults to the registry's name for the cluster."""
    if not isinstance(value, dict):
        problems.append("field 'gke': must be a mapping with project, location and name")
        return None
    found: list[str] = [
        f"field 'gke.{key}': unknown (known: {', '.join(GKE_FIELDS)})"
        for key in value
        if key not in GKE_FIELDS
    ]
    fields: dict[str, str] = {}
    for key in ("project", "location", "name"):
        item = value.get(key, cluster if key == "name" else None)
        if not isinstance(item, str) or not item.strip():
            found.append(f"field 'gke.{key}': must be a non-empty string")
        elif not NAME.fullmatch(item.strip()):
            found.append(f"field 'gke.{key}': {item!r} is not a valid {key}")
        else:
            fields[key] = item.strip()
    endpoint = value.get("endpoint", "public")
    if endpoint not in ENDPOINTS:
        found.append(f"field 'gke.endpoint': must be one of {', '.join(ENDPOINTS)}")
    problems += found
    if found:
        return None
    return GkeCluster(fields["project"], fields["location"], fields["name"], endpoint)


def _clashes(clusters: list[RegisteredCluster]) -> list[str]:
    """An alias must point at one cluster only, and never at another cluster's name."""
    owner: dict[str, str] = {c.name: c.name for c in clusters}
    problems = []
    for cluster in clusters:
        for alias in cluster.aliases:
            other = owner.get(alias)
            if other is not None and other != cluster.name:
                what = "the name" if alias == other else "an alias"
                problems.append(
                    f"cluster {cluster.name!r}: field 'aliases': {alias!r} is already {what} "
                    f"of cluster {other!r}"
                )
            else:
                owner[alias] = cluster.name
    return problems


def _granted_kubeconfigs(clusters: list[RegisteredCluster]) -> list[str]:
    """A cluster's specs may not read a kubeconfig the registry holds in Secret Manager: that
    would hand a cluster's credentials to whoever publishes a spec."""
    kubeconfigs = [
        (cluster.name, cluster.target.version)
        for cluster in clusters
        if isinstance(cluster.target, SecretKubeconfig)
    ]
    problems = []
    for cluster in clusters:
        grant = cluster.secret_grant
        for owner, version in kubeconfigs:
            _, project, _, secret, *_ = version.split("/")
            if grant is not None and grant.allows(project, secret):
                problems.append(
                    f"cluster {cluster.name!r}: field '{SECRET_GRANT}.secrets' allows secret "
                    f"{secret}, which holds the kubeconfig of cluster {owner!r}"
                )
    return problems

"""Plaintext secrets are refused wherever they appear in a spec, including free-form ``config``.

A secret in a spec would be stored in the cluster, in Pub/Sub messages and in git; gunj takes
secrets only by reference. A key that names a password, token or key and holds a literal value
is a problem pointing at the reference field to use instead, and so is a URL that carries its
credential (a Slack or PagerDuty webhook, a token in the query, a password in the userinfo)
under any key. Grafana's own references (``$__env{NAME}``, ``$__file{path}``,
``$__vault{...}``) are not secrets. The value is never repeated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .problems import Problem, format_path, walk

_SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|secret|token|credentials?|authorization|api[_-]?key"
    r"|access[_-]?key(id)?|secret[_-]?key|private[_-]?key|account[_-]?key|client[_-]?secret"
    r"|secure[_-]?json[_-]?data|bearer|routing[_-]?key|service[_-]?key|integration[_-]?key)$",
    re.IGNORECASE,
)
# Keys that name where a secret is, not the secret itself.
_REFERENCE_KEY = re.compile(
    r"(secretref|secretname|existingsecret|envfromsecret|secretkeyref|secretkeyselector"
    r"|_file|file)$",
    re.IGNORECASE,
)


# Grafana expands these where its configuration and provisioning are read: the value names where
# the secret is (an environment variable, a mounted file, a vault), not the secret.
_GRAFANA_REFERENCE = re.compile(r"\$__(env|file|vault)\{[^{}]+\}")


def _is_literal(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip()) and not _GRAFANA_REFERENCE.fullmatch(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


# Webhook URLs whose path is the credential: whoever has the URL can post.
_SECRET_PATHS = (
    ("hooks.slack.com", re.compile(r"/(services|workflows|triggers)/\S+")),
    ("events.pagerduty.com", re.compile(r"/integration/[^/]+")),
    ("discord.com", re.compile(r"/api/webhooks/\S+")),
    ("discordapp.com", re.compile(r"/api/webhooks/\S+")),
    ("api.telegram.org", re.compile(r"/bot[^/]+")),
    (".webhook.office.com", re.compile(r"/webhookb2/\S+")),
)
# Query parameters that carry a credential.
_SECRET_PARAMETER = re.compile(
    r"(token|access[_-]?token|auth[_-]?token|key|api[_-]?key|apikey|secret|password|passwd"
    r"|sig|signature|routing[_-]?key|integration[_-]?key|service[_-]?key)",
    re.IGNORECASE,
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def url_credential(value: str) -> str | None:
    """What credential a URL carries (never the credential), or None."""
    if not _URL.fullmatch(value.strip()):
        return None
    try:
        parts = urlsplit(value.strip())
        password = parts.password
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if password:
        return "a password in the userinfo"
    for domain, path in _SECRET_PATHS:
        matches = host.endswith(domain) if domain.startswith(".") else host == domain
        if matches and path.match(parts.path):
            return f"a {domain.lstrip('.')} webhook: its path is its token"
    for name, parameter in parse_qsl(parts.query, keep_blank_values=True):
        if (
            _SECRET_PARAMETER.fullmatch(name)
            and parameter
            and not _GRAFANA_REFERENCE.fullmatch(parameter)
        ):
            return "a credential in the query"
    return None


def _holds_secret(key: str, value: Any) -> bool:
    if _REFERENCE_KEY.search(key) or not _SECRET_KEY.search(key):
        return False
    if isinstance(value, Mapping):
        # secureJsonData: {password: ...}: the nested keys are reported on their own.
        return False
    return _is_literal(value) or (isinstance(value, list) and any(map(_is_literal, value)))


def _pointer(location: tuple[int | str, ...]) -> str:
    path = [str(part) for part in location if isinstance(part, str)]
    component = path[1] if len(path) > 1 and path[0] == "spec" else "<component>"
    joined = ".".join(path).lower()
    if component == "grafana" and ("admin" in joined):
        return "grafana.adminCredentials.existingSecret"
    if "remotewrite" in joined:
        return "the remote write's basicAuth.passwordSecretRef or bearerTokenSecretRef"
    if "securejsondata" in joined or "datasource" in joined:
        return "grafana.envFromSecret and $__env{NAME} in the datasource"
    if ".chart." in f".{joined}.":
        return f"{component}.chart.credentialsSecretRef"
    if component in {"loki", "tempo"} and ("storage" in joined or "s3" in joined):
        return f"{component}.storage.credentialsSecretRef"
    return f"{component}.valuesFrom (kind: Secret, with a targetPath)"


# Maps whose keys are names, never credentials (an ingress annotation "auth-secret" names one).
_NAME_MAPS = {"annotations", "labels", "nodeSelector", "externalLabels"}


def plaintext_secrets(raw: Any) -> list[Problem]:
    """Every literal secret in a raw spec document, as a problem naming the reference to use."""
    problems = []
    for location, value in walk(raw):
        key = str(location[-1])
        in_name_map = len(location) > 1 and location[-2] in _NAME_MAPS
        if not in_name_map and _holds_secret(key, value):
            problems.append(
                Problem(
                    format_path(location),
                    f"plaintext secrets are not accepted (the value is not shown); put it in a "
                    f"Secret and reference it with {_pointer(location)}",
                )
            )
        elif isinstance(value, str) and (carried := url_credential(value)):
            problems.append(
                Problem(
                    format_path(location),
                    f"credentials do not belong in the URL ({carried}; the value is not "
                    f"shown): a plaintext secret; put the URL in a Secret and reference it with "
                    f"{_pointer(location)}",
                )
            )
    return problems

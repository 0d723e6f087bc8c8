"""Plaintext secrets are refused wherever they appear in a spec, including free-form ``config``.

A secret in a spec would be stored in the cluster, in Pub/Sub messages and in git; gunj takes
secrets only by reference. A key that names a password, token or key and holds a literal value
is a problem pointing at the reference field to use instead. The value is never repeated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .problems import Problem, format_path, walk

_SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|secret|token|credentials?|authorization|api[_-]?key"
    r"|access[_-]?key(id)?|secret[_-]?key|private[_-]?key|account[_-]?key|client[_-]?secret"
    r"|secure[_-]?json[_-]?data|bearer)$",
    re.IGNORECASE,
)
# Keys that name where a secret is, not the secret itself.
_REFERENCE_KEY = re.compile(
    r"(secretref|secretname|existingsecret|envfromsecret|secretkeyref|secretkeyselector"
    r"|_file|file)$",
    re.IGNORECASE,
)


def _is_literal(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip()) and not value.strip().startswith("$__env{")
    return isinstance(value, int | float) and not isinstance(value, bool)


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
        if len(location) > 1 and location[-2] in _NAME_MAPS:
            continue
        if _holds_secret(key, value):
            problems.append(
                Problem(
                    format_path(location),
                    f"plaintext secrets are not accepted (the value is not shown); put it in a "
                    f"Secret and reference it with {_pointer(location)}",
                )
            )
    return problems

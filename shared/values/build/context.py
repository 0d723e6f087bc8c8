"""What a component's values depend on beyond its own spec: the platform's name, namespace,
global settings and which other components run (for cross-component wiring)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ..spec.base import SpecModel
from ..spec.common import ComponentSpec, SecretKeyRef
from ..spec.platform import GlobalSpec, ObservabilityPlatform

# Where referenced Secrets are mounted in a component's pod, one folder per Secret.
SECRETS_DIR = "/etc/secrets"
# A volume's name is a DNS-1123 label; a Secret's name may be a subdomain (dots, 253 characters).
VOLUME_NAME_MAX = 63
_DIGEST_LENGTH = 8


@dataclass(frozen=True)
class PlatformContext:
    name: str
    namespace: str
    global_: GlobalSpec
    enabled: frozenset[str]
    loki_gateway: bool = True

    @classmethod
    def of(cls, platform: ObservabilityPlatform, loki_gateway: bool = True) -> PlatformContext:
        return cls(
            name=platform.metadata.name,
            namespace=platform.metadata.namespace,
            global_=platform.spec.global_,
            enabled=frozenset(platform.spec.enabled()),
            loki_gateway=loki_gateway,
        )


def placement(spec: ComponentSpec, context: PlatformContext) -> dict[str, Any]:
    """nodeSelector, tolerations and affinity: the component's over the platform's global ones
    (node selectors merge, tolerations add up, affinity is the component's own)."""
    result: dict[str, Any] = {}
    selector = {**context.global_.node_selector, **(spec.node_selector or {})}
    if selector:
        result["nodeSelector"] = selector
    tolerations = [*context.global_.tolerations, *(spec.tolerations or [])]
    if tolerations:
        result["tolerations"] = [
            t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tolerations
        ]
    if spec.affinity:
        result["affinity"] = spec.affinity
    return result


def resources(spec: ComponentSpec) -> dict[str, Any]:
    if spec.resources is None:
        return {}
    return spec.resources.model_dump(by_alias=True, exclude_none=True, mode="json")


def secret_volume_name(secret: str) -> str:
    """The volume a Secret is mounted through: ``secret-<name>`` when that is a valid volume
    name. Otherwise dots become '-' and the name is shortened, and a hash of the whole Secret
    name is appended, so that two Secrets (``db.creds``, ``db-creds``) never share a volume."""
    plain = f"secret-{secret}"
    if len(plain) <= VOLUME_NAME_MAX and "." not in secret:
        return plain
    digest = hashlib.sha256(secret.encode()).hexdigest()[:_DIGEST_LENGTH]
    stem = plain.replace(".", "-")[: VOLUME_NAME_MAX - _DIGEST_LENGTH - 1].rstrip("-")
    return f"{stem}-{digest}"


def secret_mount(secret: str) -> dict[str, Any]:
    """A chart's ``extraSecretMounts`` entry: the Secret mounted read-only in its own folder (the
    component reads a key as a file; its content never enters the values)."""
    return {
        "name": secret_volume_name(secret),
        "secretName": secret,
        "mountPath": f"{SECRETS_DIR}/{secret}",
        "readOnly": True,
    }


def secret_file(ref: SecretKeyRef) -> str:
    """Where a referenced Secret key is found in the pod, once mounted by ``secret_mount``."""
    return f"{SECRETS_DIR}/{ref.name}/{ref.key}"


def own_names(model: SpecModel) -> dict[str, Any]:
    """A typed block of a component's own configuration, under the component's own key names:
    its models name their attributes as the component does, and leave out what is unset (the
    component's default). An attribute named after a Python keyword carries a trailing
    underscore (``global_``), which the component's name does not."""
    names: dict[str, Any] = _without_trailing_underscores(
        model.model_dump(mode="json", by_alias=False, exclude_none=True)
    )
    return names


def _without_trailing_underscores(node: Any) -> Any:
    if isinstance(node, dict):
        return {key.rstrip("_"): _without_trailing_underscores(v) for key, v in node.items()}
    if isinstance(node, list):
        return [_without_trailing_underscores(item) for item in node]
    return node

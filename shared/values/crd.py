"""The CustomResourceDefinition and the editor JSON schema, generated from the spec model.

The checked-in files (``crd/``) are regenerated with ``gunj schema --write``; a test fails when
they drift from the model. Beside the CRD is the digest of what makes a served CRD current
(:func:`schema_digest`), so that the engine's check of a cluster's CRD compares two digests
instead of parsing the CRD's YAML in every process. The CRD schema is structural, as the API server requires: references
inlined, ``anyOf [X, null]`` turned into ``nullable``, free-form maps kept with
``x-kubernetes-preserve-unknown-fields``, and no defaults (gunj applies its own, so an object
reads the same whether or not the API server has seen it).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .. import yamlio
from .spec import ObservabilityPlatform
from .spec.platform import API_VERSION, KIND

GROUP, VERSION = API_VERSION.split("/")
PLURAL = "observabilityplatforms"
CRD_NAME = f"{PLURAL}.{GROUP}"
CRD_FILE = f"{CRD_NAME}.yaml"
CRD_DIGEST_FILE = f"{CRD_NAME}.sha256"
JSON_SCHEMA_FILE = "observabilityplatform.schema.json"
_DROPPED = {"title", "default", "examples", "$defs", "discriminator"}


def json_schema() -> dict[str, Any]:
    """The JSON schema of a platform document, for editors (yaml-language-server)."""
    schema = ObservabilityPlatform.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"{KIND} ({API_VERSION})"
    return schema


def _resolve(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, definitions)
    if isinstance(node, dict):
        return {key: _resolve(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, definitions) for item in node]
    return node


def _bounds(node: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema 2020's numeric ``exclusiveMinimum: 0`` is OpenAPI v3's ``minimum: 0`` with
    ``exclusiveMinimum: true``; the API server accepts only the latter."""
    for side in ("Minimum", "Maximum"):
        bound = node.get(f"exclusive{side}")
        if isinstance(bound, int | float) and not isinstance(bound, bool):
            node[side.lower()] = bound
            node[f"exclusive{side}"] = True
    return node


def _structural(node: dict[str, Any]) -> dict[str, Any]:
    node = _bounds({key: value for key, value in node.items() if key not in _DROPPED})
    if "anyOf" in node:
        members = [m for m in node.pop("anyOf") if m.get("type") != "null"]
        if len(members) == 1:
            node = {**_structural(members[0]), **node, "nullable": True}
        else:
            # Unions of scalar types: kept as any value, checked by gunj itself.
            node.update({"x-kubernetes-preserve-unknown-fields": True, "nullable": True})
            return node
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "properties" in node:
        node["type"] = "object"
        node["properties"] = {k: _structural(v) for k, v in node["properties"].items()}
        node.pop("additionalProperties", None)
    elif node.get("type") == "object" or "additionalProperties" in node:
        node["type"] = "object"
        extra = node.pop("additionalProperties", True)
        if isinstance(extra, dict) and extra:
            node["additionalProperties"] = _structural(extra)
        else:
            node["x-kubernetes-preserve-unknown-fields"] = True
    elif "items" in node:
        node["items"] = (
            _structural(node["items"])
            if node["items"]
            else {"x-kubernetes-preserve-unknown-fields": True}
        )
    elif "type" not in node and "enum" not in node:
        node["x-kubernetes-preserve-unknown-fields"] = True
    return node


def openapi_schema() -> dict[str, Any]:
    raw = ObservabilityPlatform.model_json_schema(by_alias=True, mode="validation")
    resolved = _resolve({k: v for k, v in raw.items() if k != "$defs"}, raw.get("$defs", {}))
    schema = _structural(resolved)
    # The API server owns metadata; a CRD may not constrain it beyond its type.
    schema["properties"]["metadata"] = {"type": "object"}
    schema["properties"]["apiVersion"] = {"type": "string"}
    schema["properties"]["kind"] = {"type": "string"}
    return schema


def custom_resource_definition() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": KIND.lower(),
                "shortNames": ["op"],
                "categories": ["observability"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                        {
                            "name": "Ready",
                            "type": "string",
                            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                        },
                        {
                            "name": "Drifted",
                            "type": "string",
                            "jsonPath": '.status.conditions[?(@.type=="Drifted")].message',
                        },
                        {
                            "name": "Observed",
                            "type": "date",
                            "jsonPath": ".status.observedAt",
                        },
                        {
                            "name": "Upgrades",
                            "type": "string",
                            "jsonPath": ".status.upgrades.available",
                        },
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {"openAPIV3Schema": openapi_schema()},
                }
            ],
        },
    }


def render_crd() -> str:
    header = "# Generated from shared/values/spec by `gunj schema --write`; do not edit.\n"
    return header + yaml.safe_dump(custom_resource_definition(), sort_keys=False, width=100)


def _integral(node: Any) -> Any:
    """``node`` with every whole float an int: the API server writes ``1.0`` as ``1``."""
    if isinstance(node, dict):
        return {key: _integral(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_integral(item) for item in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def schema_digest(spec: Mapping[str, Any]) -> str:
    """The SHA-256 of what makes a CRD's ``spec`` current: its first version's schema and
    printer columns, as canonical JSON (keys sorted, whole numbers as integers)."""
    versions = spec.get("versions") or [{}]
    first = versions[0] if isinstance(versions[0], dict) else {}
    compared = _integral([first.get("schema"), first.get("additionalPrinterColumns")])
    canonical = json.dumps(compared, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def render_crd_digest() -> str:
    return schema_digest(custom_resource_definition()["spec"]) + "\n"


def render_json_schema() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def generated_files() -> dict[str, str]:
    return {
        CRD_FILE: render_crd(),
        CRD_DIGEST_FILE: render_crd_digest(),
        JSON_SCHEMA_FILE: render_json_schema(),
    }


def checked_in(name: str) -> str:
    return resources.files(__package__).joinpath("crd", name).read_text()


def write_generated(folder: Path) -> list[Path]:
    written = []
    for name, text in generated_files().items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written


def crd_digest() -> str:
    """The checked-in CRD's :func:`schema_digest`: a served CRD with another is not current."""
    return checked_in(CRD_DIGEST_FILE).strip()


def crd_manifest() -> dict[str, Any]:
    """The checked-in CRD, as the engine applies it to target clusters."""
    document: dict[str, Any] = yamlio.safe_load(checked_in(CRD_FILE))
    return document

"""The google provider's schema, read from the jsii assembly of ``@cdktf/provider-google`` (the
provider's arguments and blocks as cdktf generates them), and Terraform blocks checked against it.

cdktf names each argument in camel case, but every property's documentation links to the
provider's page with the Terraform name as its anchor
(``.../storage_bucket#uniform_bucket_level_access``): that anchor is the name checked. A
property typed as one of the package's structs is a nested block; any other is an argument, with
its jsii type (string, number, boolean, any, or a list or map of them). A property without
``optional`` is required.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ASSEMBLY = "@cdktf/provider-google"
# The resource or data source a class represents, from its summary's link.
REPRESENTS = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/google/[^/]+/docs/(resources|data-sources)/"
    r"\S+ (google_[a-z0-9_]+)\}"
)
ANCHOR = re.compile(r"registry\.terraform\.io/providers/hashicorp/google/\S+#([a-z0-9_]+) ")
# Terraform's meta-arguments, and the blocks only Terraform reads.
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}
# Keys python-hcl2 adds to what it parses.
IGNORED = {"__is_block__", "__comments__", "__inline_comments__"}


@dataclass(frozen=True)
class Argument:
    type: str
    """``string``, ``number``, ``boolean``, ``any``, ``list`` or ``map``."""
    required: bool


@dataclass
class Block:
    arguments: dict[str, Argument] = field(default_factory=dict)
    blocks: dict[str, tuple[Block, bool]] = field(default_factory=dict)
    """Nested block name: (its schema, whether it is required)."""


class ProviderSchema:
    def __init__(self, jsii: Path) -> None:
        types: dict[str, Any] = json.loads(jsii.read_text())["types"]
        self._types = types
        self._configs: dict[tuple[str, str], str] = {}
        for item in types.values():
            if item.get("kind") != "class" or item.get("base") not in {
                "cdktf.TerraformResource",
                "cdktf.TerraformDataSource",
            }:
                continue
            found = REPRESENTS.search(item.get("docs", {}).get("summary", ""))
            parameters = item.get("initializer", {}).get("parameters", [])
            if found is None or len(parameters) < 3:
                continue
            kind = "resource" if found.group(1) == "resources" else "data"
            self._configs[(kind, found.group(2))] = parameters[2]["type"]["fqn"]
        self._blocks: dict[str, Block] = {}

    def kinds(self) -> set[tuple[str, str]]:
        return set(self._configs)

    def block(self, kind: str, name: str) -> Block | None:
        """The schema of a ``resource`` or ``data`` type; None when the provider has none."""
        fqn = self._configs.get((kind, name))
        return None if fqn is None else self._struct(fqn)

    def _struct(self, fqn: str) -> Block:
        if fqn in self._blocks:
            return self._blocks[fqn]
        block = self._blocks[fqn] = Block()
        for prop in self._types[fqn].get("properties", []):
            found = ANCHOR.search(prop.get("docs", {}).get("remarks", ""))
            name = found.group(1) if found else _snake(prop["name"])
            required = not prop.get("optional", False)
            struct = self._struct_of(prop["type"])
            if struct is not None:
                block.blocks[name] = (self._struct(struct), required)
            else:
                block.arguments[name] = Argument(_kind_of(prop["type"]), required)
        return block

    def _struct_of(self, type_ref: dict[str, Any]) -> str | None:
        for candidate in _alternatives(type_ref):
            element = candidate.get("collection", {}).get("elementtype", candidate)
            fqn = element.get("fqn", "")
            if fqn.startswith(f"{ASSEMBLY}.") and self._types[fqn].get("datatype"):
                return str(fqn)
        return None


def _alternatives(type_ref: dict[str, Any]) -> list[dict[str, Any]]:
    union = type_ref.get("union")
    return list(union["types"]) if union else [type_ref]


def _kind_of(type_ref: dict[str, Any]) -> str:
    for candidate in _alternatives(type_ref):
        if "primitive" in candidate:
            return str(candidate["primitive"])
        if "collection" in candidate:
            return "list" if candidate["collection"]["kind"] == "array" else "map"
    return "any"  # cdktf.IResolvable alone


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


# --- Terraform blocks, as python-hcl2 parses them -----------------------------------------------


def is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get("__is_block__") for item in value)
    )


NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _fits(value: Any, expected: str) -> bool:
    """Whether a literal value fits an argument of ``expected`` type. An expression
    (``${...}``), whose type only Terraform knows, fits anything."""
    if (isinstance(value, str) and value.startswith("${")) or expected == "any":
        return True
    if expected in {"list", "map"} or isinstance(value, dict | list):
        return (expected == "list" and isinstance(value, list)) or (
            expected == "map" and isinstance(value, dict)
        )
    text = value.strip('"') if isinstance(value, str) else value
    if expected == "boolean":
        return isinstance(text, bool) or text in {"true", "false"}
    if expected == "number":
        return (isinstance(text, int | float) and not isinstance(text, bool)) or bool(
            isinstance(text, str) and NUMBER.fullmatch(text)
        )
    return True


def _dynamic_problems(value: list[Any], schema: Block, where: str) -> tuple[set[str], list[str]]:
    """The blocks ``dynamic "name" { content { ... } }`` generates, and their problems."""
    present: set[str] = set()
    found: list[str] = []
    for dynamic in value:
        for label, spec in dynamic.items():
            if label in IGNORED or not isinstance(spec, dict):
                continue
            nested = label.strip('"')
            present.add(nested)
            if nested not in schema.blocks:
                found.append(f"{where}: no block {nested!r} (dynamic)")
                continue
            for content in spec.get("content", []):
                found += problems(content, schema.blocks[nested][0], f"{where}.{nested}", top=False)
    return present, found


def _missing(schema: Block, present: set[str], where: str) -> list[str]:
    found = [
        f"{where}: required argument {name!r} is not set"
        for name, argument in schema.arguments.items()
        if argument.required and name not in present
    ]
    found += [
        f"{where}: required block {name!r} is missing"
        for name, (_, required) in schema.blocks.items()
        if required and name not in present
    ]
    return found


def _is_meta(name: str, value: Any) -> bool:
    return (name in META_ARGUMENTS and not is_block(value)) or (
        name in META_BLOCKS and is_block(value)
    )


def problems(body: dict[str, Any], schema: Block, where: str, *, top: bool = True) -> list[str]:
    """Every argument or block of ``body`` the schema does not have or types otherwise, and
    every required one missing, each named by its path."""
    found: list[str] = []
    present: set[str] = set()
    for name, value in body.items():
        path = f"{where}.{name}"
        if name in IGNORED or (top and _is_meta(name, value)):
            continue
        if name == "dynamic" and isinstance(value, list):
            generated, dynamic_problems = _dynamic_problems(value, schema, where)
            present |= generated
            found += dynamic_problems
            continue
        present.add(name)
        if name in schema.blocks:
            if not is_block(value):
                found.append(f"{path}: a block, given as an argument")
                continue
            for item in value:
                found += problems(item, schema.blocks[name][0], path, top=False)
        elif name in schema.arguments:
            expected = schema.arguments[name].type
            if is_block(value):
                found.append(f"{path}: an argument, given as a block")
            elif not _fits(value, expected):
                found.append(f"{path}: a {expected} is expected, got {value!r}")
        else:
            found.append(f"{where}: no argument or block {name!r}")
    return found + _missing(schema, present, where)

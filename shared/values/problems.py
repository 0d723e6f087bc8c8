"""Problems with a spec, as a person reads them: a field path and what is wrong with it.

Pydantic's errors are turned into sentences that never repeat the offending value (it may be a
misplaced secret) and, for an unknown field, suggest the closest valid name at that place.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(location: Sequence[int | str]) -> str:
    """``spec.grafana.config["grafana.ini"].plugins[0]``: keys with dots are quoted."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(str(part)):
            path += f'["{part}"]'
        else:
            path += f".{part}" if path else str(part)
    return path


def walk(
    node: Any, location: tuple[int | str, ...] = ()
) -> Iterator[tuple[tuple[int | str, ...], Any]]:
    """Every value inside a document, with its location, parents before children."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield (*location, str(key)), value
            yield from walk(value, (*location, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*location, index))


def _unwrap(annotation: Any) -> Any:
    """The model (or container) inside Optional/Annotated wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in {typing.Union, types.UnionType}:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _field_by_alias(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in {name, field.alias}:
            return field.annotation
    return None


def model_at(root: type[BaseModel], location: Sequence[int | str]) -> type[BaseModel] | None:
    """The spec model that holds the value at ``location``, if there is one."""
    current: Any = root
    for part in location:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            current = _field_by_alias(current, part)
        elif origin is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif origin is dict and isinstance(part, str):
            current = typing.get_args(current)[1]
        else:
            return None
        if current is None:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def field_names(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _unknown_field(root: type[BaseModel], location: Sequence[int | str]) -> str:
    holder = model_at(root, location[:-1])
    name = str(location[-1])
    if holder is None:
        return "unknown field"
    valid = field_names(holder)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    if not close:
        # Case slips (retentionsize) and snake_case (retention_size) are common too.
        folded = {v.lower().replace("_", ""): v for v in valid}
        match = folded.get(name.lower().replace("_", "").replace("-", ""))
        close = [match] if match else []
    if close:
        return f"unknown field; did you mean '{close[0]}'?"
    return f"unknown field; valid fields here: {', '.join(sorted(valid))}"


def _sentence(error: Any) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "literal_error":
        return f"must be one of: {context.get('expected', '').replace(' or ', ', ')}"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        operator = {
            "greater_than_equal": ">=",
            "less_than_equal": "<=",
            "greater_than": ">",
            "less_than": "<",
        }[kind]
        bound = next(iter(context.values()), "")
        return f"must be {operator} {bound}"
    message: str = error["msg"]
    # Pydantic says "Input should be ..."; a field "must be".
    message = message.replace("Input should be", "must be").replace("Value error, ", "")
    return message[0].lower() + message[1:] if message else kind


def from_validation_error(
    error: ValidationError, root: type[BaseModel], prefix: Sequence[int | str] = ()
) -> list[Problem]:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        location = (*prefix, *item["loc"])
        if item["type"] == "extra_forbidden":
            message = _unknown_field(root, item["loc"])
        else:
            message = _sentence(item)
        problems.append(Problem(format_path(location), message))
    return problems


def unique(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems))

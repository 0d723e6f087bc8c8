"""Problems with a spec, as a person reads them: a field path and what is wrong with it.

Pydantic's errors are turned into sentences that never repeat the offending value (it may be a
misplaced secret) and, for an unknown field, suggest the closest valid name at that place.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, PydanticUserError, TypeAdapter, ValidationError

from .chart_keys import looks_like_chart_value


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


@functools.lru_cache(maxsize=4096)
def _field_by_alias(model: type[BaseModel], key: str) -> Any:
    """The type of a model's field, with its constraints (``Field(pattern=...)``)."""
    for name, field in model.model_fields.items():
        if key in {name, field.alias}:
            if field.metadata:
                return typing.Annotated[(field.annotation, *field.metadata)]
            return field.annotation
    return None


# Each step from a type to its child's, by the type's identity (the type is kept with it, so
# the identity stays its own): a spec with thousands of problems looks each step up once.
_ITEM = "[]"
_STEPS: dict[tuple[int, str], tuple[Any, Any]] = {}


def _child(current: Any, part: int | str) -> Any:
    current = _unwrap(current)
    is_model = isinstance(current, type) and issubclass(current, BaseModel)
    key = (id(current), part if is_model and isinstance(part, str) else _ITEM)
    if (known := _STEPS.get(key)) is not None and known[0] is current:
        return known[1]
    origin = typing.get_origin(current)
    child: Any = None
    if is_model and isinstance(part, str):
        child = _field_by_alias(current, part)
    elif origin is list and isinstance(part, int):
        child = typing.get_args(current)[0]
    elif origin is dict and isinstance(part, str):
        child = typing.get_args(current)[1]
    if child is not None:
        _STEPS[key] = (current, child)
    return child


def annotation_at(root: type[BaseModel], location: Sequence[int | str]) -> Any:
    """The type the spec model gives the value at ``location``, or None where it gives none."""
    current: Any = root
    for part in location:
        current = _child(current, part)
        if current is None:
            return None
    return current


def model_at(root: type[BaseModel], location: Sequence[int | str]) -> type[BaseModel] | None:
    """The spec model that holds the value at ``location``, if there is one."""
    current = _unwrap(annotation_at(root, location))
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def field_names(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


_SPEC_TWINS = {"persistence": "storage", "storage": "persistence"}


def _unknown_field(root: type[BaseModel], location: Sequence[int | str]) -> str:
    holder = model_at(root, location[:-1])
    name = str(location[-1])
    if holder is None:
        return "unknown field"
    valid = field_names(holder)
    # The chart's name for what the spec calls otherwise: the volume is storage or persistence.
    twin = _SPEC_TWINS.get(name)
    if twin in valid:
        return f"unknown field; did you mean '{twin}'?"
    if (
        len(location) == 3
        and location[0] == "spec"
        and isinstance(location[1], str)
        and looks_like_chart_value(location[1], name)
    ):
        component = location[1]
        if name in {"values", "helmValues", "chartValues", "extraValues", "overrides"}:
            return (
                f"unknown field; chart values go under spec.{component}.config (or "
                f"spec.{component}.valuesFrom, to read them from a Secret or ConfigMap)"
            )
        return (
            f"unknown field; chart values go under spec.{component}.config "
            f"(as {format_path(('config', name))})"
        )
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    if not close:
        # Case slips (retentionsize) and snake_case (retention_size) are common too.
        folded = {v.lower().replace("_", ""): v for v in valid}
        match = folded.get(name.lower().replace("_", "").replace("-", ""))
        close = [match] if match else []
    if close:
        return f"unknown field; did you mean '{close[0]}'?"
    return f"unknown field; valid fields here: {', '.join(sorted(valid))}"


_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "true/false"),
    ((int, float), "a number"),
    (str, "text"),
    (Mapping, "a mapping"),
    ((list, tuple), "a list"),
)


def _kind_of(value: Any) -> str:
    """What a value is, in YAML's words (never the value itself: it may be a secret)."""
    if value is None:
        return "null"
    return next((name for kind, name in _KINDS if isinstance(value, kind)), "another type")


def _mapping_of(model: type[BaseModel] | None) -> str:
    if model is None:
        return "must be a mapping"
    names = field_names(model)
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return f"must be a mapping with fields {shown}"


# Adapters of the types that text is checked against, by the type's text (types built from
# Annotated metadata are equal only as text). Bounded: a spec has a few hundred field types.
_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _valid_as_text(annotation: Any, text: str) -> str | None:
    """None when ``text`` is a valid value of ``annotation``; otherwise what is wrong with it."""
    key = repr(annotation)
    adapter = _ADAPTERS.get(key)
    if adapter is None:
        try:
            adapter = TypeAdapter(annotation)
        except PydanticUserError:
            return None
        if len(_ADAPTERS) < 1000:
            _ADAPTERS[key] = adapter
    try:
        adapter.validate_python(text)
    except ValidationError as error:
        return _sentence(error.errors(include_url=False)[0], None, ())
    return None


def _not_text(error: Any, root: type[BaseModel] | None, location: Sequence[int | str]) -> str:
    """A number or true/false where text is needed: YAML read an unquoted scalar as one."""
    value = error.get("input")
    if isinstance(value, bool):
        # yes, no, on, off, true and false, unquoted, are true/false in YAML.
        return "got true/false: quote it (YAML reads yes, no, on, off unquoted as true/false)"
    if not isinstance(value, int | float):
        return f"must be text (got {_kind_of(value)})"
    annotation = annotation_at(root, location) if root is not None else None
    wrong = _valid_as_text(annotation, str(value)) if annotation is not None else None
    if wrong is None and isinstance(value, float):
        return "got a number: quote it (unquoted, YAML reads 29.10 as the number 29.1)"
    if wrong is None:
        return "got a number: quote it"
    return f"got a number: {wrong}"


_TYPE_WORDS = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "date_type": "must be a date, e.g. 2024-04-01",
    "date_parsing": "must be a date, e.g. 2024-04-01",
    "date_from_datetime_parsing": "must be a date, e.g. 2024-04-01",
    "date_from_datetime_inexact": "must be a date, e.g. 2024-04-01",
}


def _bound_or_length(kind: str, context: Mapping[str, Any]) -> str | None:
    """A value out of its bounds, or of the wrong length."""
    operators = {
        "greater_than_equal": ">=",
        "less_than_equal": "<=",
        "greater_than": ">",
        "less_than": "<",
    }
    if kind in operators:
        return f"must be {operators[kind]} {next(iter(context.values()), '')}"
    if kind in {"too_short", "too_long"}:
        count = context.get("min_length" if kind == "too_short" else "max_length")
        return f"must have at {'least' if kind == 'too_short' else 'most'} {count} item(s)"
    if kind == "string_too_short":
        count = context.get("min_length", 1)
        return "must not be empty" if count == 1 else f"must have at least {count} characters"
    if kind == "string_too_long":
        return f"must have at most {context.get('max_length')} characters"
    return None


def _sentence(error: Any, root: type[BaseModel] | None, location: Sequence[int | str]) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    value = error.get("input")
    message: str = error["msg"]
    if kind == "missing":
        message = "required"
    elif kind == "literal_error":
        message = f"must be one of: {context.get('expected', '').replace(' or ', ', ')}"
    elif kind == "string_type":
        message = _not_text(error, root, location)
    elif kind in {"model_type", "model_attributes_type", "dict_type"}:
        model = model_at(root, location) if root is not None else None
        message = f"{_mapping_of(model)} (got {_kind_of(value)})"
    elif kind in _TYPE_WORDS:
        message = f"{_TYPE_WORDS[kind]} (got {_kind_of(value)})"
    elif kind == "string_pattern_mismatch":
        message = f"must match the pattern {context.get('pattern')}"
    elif sized := _bound_or_length(kind, context):
        message = sized
    else:
        # Pydantic says "Input should be ..."; a field "must be". Python's class names mean
        # nothing to a person writing YAML.
        message = message.replace("Input should be", "must be").replace("Value error, ", "")
        message = _PYTHON_NAMES.sub("", message)
    return message[0].lower() + message[1:] if message else kind


_PYTHON_NAMES = re.compile(r" or instance of \w+|,? ?(an )?instance of \w+")


def from_validation_error(
    error: ValidationError, root: type[BaseModel], prefix: Sequence[int | str] = ()
) -> list[Problem]:
    problems = []
    # The input is read for its type only ("got a number"), never written into a message.
    for item in error.errors(include_url=False):
        location = (*prefix, *item["loc"])
        if item["type"] == "extra_forbidden":
            message = _unknown_field(root, item["loc"])
        else:
            message = _sentence(item, root, item["loc"])
        problems.append(Problem(format_path(location), message))
    return problems


def unique(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems))

"""Documents from outside gunj (platform specs, ``valuesFrom`` content, alert payloads, the
cluster registry), read within limits into JSON types only.

Every such document is read here, so one set of rules holds wherever a document enters:

- **Limits**, checked while the document is read, before anything walks or serialises it:
  the text's size; its size as JSON with every alias expanded; the number of values (mapping
  keys, items and scalars, aliases counted as expanded); the nesting depth; the length of one
  string; the length of one number. Reading is iterative (events from libyaml's parser, or a
  token scan of JSON before :func:`json.loads`), so nothing nested deeply reaches Python's
  recursion limit.
- **JSON types only**: mappings with string keys, lists, strings, integers, finite floats,
  true/false and null. Any other tag (``!!binary``, ``!!set``, ``!!omap``, ``!!timestamp``, a
  ``!!python/...`` tag, a local ``!tag``) is refused, naming where. Keys are strings as written
  (``1:`` is the key ``"1"``); a mapping or list as a key is refused.
- **YAML 1.1's implicit timestamps are strings**: an unquoted ``2024-01-01`` is the string
  ``"2024-01-01"``, as Helm reads it; other plain scalars resolve as YAML 1.1 has them
  (``yes`` is true, ``0x1F`` is 31).
- **Aliases** are allowed (a values file may reuse an anchored block, also through ``<<``
  merge keys) and cost what they expand to: an alias adds the values and the size of what it
  names to the document's totals, so a billion-laughs document is refused after a few
  thousand values, not after the memory is gone. An alias to an anchor not yet complete
  (inside itself) is refused.
- **Duplicate keys** are refused with the line and column of both.
- **Errors** (:class:`DocumentError`) name where (line and column, and the field path when
  one is known, its keys shortened) and never quote a value, a tag or libyaml's snippet of the
  text: the document may hold secrets. Every one is permanent: the same text fails again.

JSON text is read as JSON (``json.loads``, after a token scan that applies the limits and finds
duplicate keys), since not every JSON document is YAML 1.1 (long keys, escaped surrogate
pairs, some control characters); a document in YAML's flow style that only looks like JSON is
read as YAML.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from . import yamlio

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class DocumentLimits:
    """What one document may hold. Sizes count characters (bytes for ``max_bytes``)."""

    max_bytes: int
    """The text, in bytes, before anything is parsed."""
    max_size: int
    """The document as compact JSON, every alias expanded."""
    max_nodes: int = 100_000
    """Mapping keys, list items and scalars, every alias expanded."""
    max_depth: int = 64
    """Mappings and lists inside each other."""
    max_string: int = 256 * KIB
    """One string (a key or a value)."""
    max_number: int = 40
    """One number as written: int64 takes 19 digits, a double 24 characters."""


class DocumentError(ValueError):
    """A document that cannot be read as it is: permanent (the same text fails again)."""

    transient = False

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        location: tuple[str | int, ...] = (),
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.location = location
        super().__init__(str(self))

    @property
    def path(self) -> str:
        """The field the problem is at (``spec.grafana.config["grafana.ini"]``), or ``""``."""
        return format_location(self.location)

    @property
    def position(self) -> str:
        """``line L, column C``, or ``""``."""
        if self.line is None:
            return ""
        return f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"

    def __str__(self) -> str:
        """``spec.grafana (line 9, column 3): the problem``, as much of where as is known."""
        where = self.path
        if self.position:
            where = f"{where} ({self.position})" if where else self.position
        return f"{where}: {self.problem}" if where else self.problem


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,60}")
_KEY_SHOWN = 60
_PATH_SHOWN = 160


def format_location(location: tuple[str | int, ...]) -> str:
    """``a.b[0]["c.d"]``; a long or odd key is shortened and escaped (keys are names, but a
    hostile one should not fill or break a log line)."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{_key(part)}]"
    if len(path) > _PATH_SHOWN:  # deep nesting: its start and its end say where
        path = path[: _PATH_SHOWN // 2] + "…" + path[-_PATH_SHOWN // 2 :]
    return path


def _key(key: str) -> str:
    return json.dumps(key if len(key) <= _KEY_SHOWN else key[:_KEY_SHOWN] + "…")


def _size(count: int) -> str:
    if count >= MIB:
        return f"{count / MIB:.1f} MiB"
    if count >= KIB:
        return f"{count / KIB:.1f} KiB"
    return f"{count} bytes"


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - text.rfind("\n", 0, offset)


def _as_text(content: str | bytes, limits: DocumentLimits) -> str:
    if isinstance(content, str):
        try:
            size = len(content.encode())
        except UnicodeEncodeError as error:  # a lone surrogate, from JSON's escapes
            line, column = _line_column(content, error.start)
            raise DocumentError(
                "not valid text: a lone UTF-16 surrogate", line=line, column=column
            ) from None
    else:
        size = len(content)
    if size > limits.max_bytes:
        raise DocumentError(
            f"the document is {_size(size)}; at most {_size(limits.max_bytes)} is read"
        )
    if isinstance(content, str):
        return content
    try:
        return content.decode()
    except UnicodeDecodeError as error:
        raise DocumentError(f"not UTF-8 text (byte {error.start + 1})") from None


def load_document(
    content: str | bytes,
    limits: DocumentLimits,
    *,
    syntax: Literal["yaml", "json"] = "yaml",
) -> Any:
    """The one document in ``content`` (``None`` when there is none), within ``limits``.

    ``yaml`` reads YAML, and JSON as JSON; ``json`` reads JSON only. More than one non-empty
    YAML document is refused. Raises :class:`DocumentError`.
    """
    text = _as_text(content, limits)
    if syntax == "json":
        return _load_json(text, limits)
    if text.lstrip()[:1] in ("{", "["):
        try:
            return _load_json(text, limits)
        except _JsonSyntaxError as not_json:
            try:  # YAML's flow style looks like JSON
                return _load_yaml(text, limits)
            except DocumentError:
                raise not_json from None  # it was meant as JSON: say where JSON breaks
    return _load_yaml(text, limits)


# --- YAML ------------------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(f"{_TAG}{kind}" for kind in ("str", "int", "float", "bool", "null"))
_MAPPING_TAGS = frozenset({None, "!", f"{_TAG}map"})
_SEQUENCE_TAGS = frozenset({None, "!", f"{_TAG}seq"})
_STRING_TAGS = frozenset({None, "!", f"{_TAG}str"})
_AS_WRITTEN = frozenset({f"{_TAG}timestamp", f"{_TAG}merge", f"{_TAG}value"})
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_MERGE = object()
JSON_TYPES = "mappings, lists, strings, numbers, true/false and null"
_TAG_NAME = re.compile(r"[a-z][a-z0-9]{0,19}(?:/[a-z][a-z0-9]{0,19})?")


def describe_tag(tag: str) -> str:
    """A tag as a message may name it: YAML's own (``!!binary``, ``!!python/object``); any
    other (a local ``!name``, a URI) is not quoted, since its text is the document's."""
    if tag.startswith(_TAG):
        found = _TAG_NAME.match(tag[len(_TAG) :])
        if found:
            return f"the tag !!{found.group()}"
    return "a tag of its own"


def scalar_value(event: yaml.ScalarEvent, limits: DocumentLimits) -> Any:
    """The JSON value of a YAML scalar (see the module's rules); DocumentError (with the
    scalar's line and column) when it is none."""
    tag = event.tag
    if tag in (None, "!"):
        tag = (
            _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
            if tag is None
            else f"{_TAG}str"
        )
    elif tag not in _SCALAR_TAGS:
        raise _marked(f"{describe_tag(tag)} is not accepted: only {JSON_TYPES}", event)
    value = event.value
    if tag == f"{_TAG}str" or tag in _AS_WRITTEN:
        if len(value) > limits.max_string:
            raise _marked(
                f"a string of {len(value)} characters; at most {limits.max_string}", event
            )
        return value
    if tag in (f"{_TAG}int", f"{_TAG}float") and len(value) > limits.max_number:
        raise _marked(f"a number of {len(value)} characters; at most {limits.max_number}", event)
    node = yaml.ScalarNode(tag, value, style=event.style)
    try:
        built = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
    except Exception:  # PyYAML's constructors raise whatever int() or a dict lookup raises
        raise _marked(f"not a valid {tag[len(_TAG) :]}", event) from None
    if isinstance(built, float) and not math.isfinite(built):
        raise _marked("infinity and NaN are not JSON numbers", event)
    return built


def _marked(
    problem: str, event: yaml.Event | None, location: tuple[str | int, ...] = ()
) -> DocumentError:
    mark = getattr(event, "start_mark", None)
    if mark is None:
        return DocumentError(problem, location=location)
    return DocumentError(problem, line=mark.line + 1, column=mark.column + 1, location=location)


@dataclass
class _Anchored:
    value: Any
    nodes: int
    size: int


@dataclass
class _Collection:
    value: dict[str, Any] | list[Any]
    anchor: str | None
    nodes_before: int
    size_before: int
    key: Any = None
    """The key whose value comes next (mappings); None: a key comes next."""
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    merges: list[dict[str, Any]] = field(default_factory=list)

    def place(self) -> str | int | None:
        if isinstance(self.value, list):
            return len(self.value)
        return self.key if isinstance(self.key, str) else None

    def finish(self) -> dict[str, Any] | list[Any]:
        if not self.merges or not isinstance(self.value, dict):
            return self.value
        merged: dict[str, Any] = {}
        for mapping in self.merges:  # the first merged mapping wins, as in YAML 1.1
            for key, item in mapping.items():
                merged.setdefault(key, item)
        explicit = self.value
        return {**{k: v for k, v in merged.items() if k not in explicit}, **explicit}


class _YamlReader:
    def __init__(self, text: str, limits: DocumentLimits) -> None:
        self.text = text
        self.limits = limits
        self.nodes = 0
        self.size = 0
        self.anchors: dict[str, _Anchored] = {}
        self.stack: list[_Collection] = []
        # libyaml's parser where PyYAML has it: many times faster, and its messages quote no
        # input. The limits are applied to its events, the same from either parser.
        try:
            self.parser = yamlio.SafeLoader(text)
        except yaml.YAMLError as error:  # PyYAML's own reader checks the characters first
            raise _syntax_error(error, self.text, ()) from None

    def location(self) -> tuple[str | int, ...]:
        return tuple(p for c in self.stack if (p := c.place()) is not None)

    def fail(self, problem: str, event: yaml.Event | None) -> DocumentError:
        return _marked(problem, event, self.location())

    def events(self) -> Iterator[yaml.Event]:
        while True:
            try:
                event = self.parser.get_event()
            except yaml.YAMLError as error:
                raise _syntax_error(error, self.text, self.location()) from None
            if event is None:
                return
            yield event

    def count(self, nodes: int, size: int, event: yaml.Event) -> None:
        self.nodes += nodes
        self.size += size
        if self.nodes > self.limits.max_nodes:
            raise self.fail(
                f"more than {self.limits.max_nodes} values (aliases counted as expanded)", event
            )
        if self.size > self.limits.max_size:
            raise self.fail(
                f"more than {_size(self.limits.max_size)} as JSON (aliases expanded)", event
            )

    def read(self) -> Any:
        try:
            found: list[Any] = []
            events = self.events()
            for event in events:
                if isinstance(event, yaml.DocumentStartEvent):
                    document = self.document(events)
                    if document is not None:
                        found.append(document)
                    if len(found) > 1:
                        raise self.fail("more than one document", event)
            return found[0] if found else None
        finally:
            self.parser.dispose()

    def document(self, events: Iterator[yaml.Event]) -> Any:
        self.anchors = {}
        root: Any = None
        for event in events:
            if isinstance(event, yaml.DocumentEndEvent):
                return root
            top = self.stack[-1] if self.stack else None
            if (
                top is not None
                and isinstance(top.value, dict)
                and top.key is None
                and not isinstance(event, yaml.MappingEndEvent)
            ):
                self.key(top, event)
                continue
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self.start(event)
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = self.stack.pop()
                value: Any = done.finish()
                anchor = done.anchor
                nodes, size = self.nodes - done.nodes_before, self.size - done.size_before
            elif isinstance(event, yaml.ScalarEvent):
                before_nodes, before_size = self.nodes, self.size
                value = self.scalar(event)
                anchor = event.anchor
                nodes, size = self.nodes - before_nodes, self.size - before_size
            elif isinstance(event, yaml.AliasEvent):
                value = self.alias(event)
                anchor = None
            else:
                raise self.fail("not a document", event)
            if anchor is not None:
                self.anchors[anchor] = _Anchored(value, nodes, size)
            if self.stack:
                self.put(self.stack[-1], value, event)
            else:
                root = value
        raise self.fail("the document ends too early", None)

    def start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        mapping = isinstance(event, yaml.MappingStartEvent)
        if event.tag not in (_MAPPING_TAGS if mapping else _SEQUENCE_TAGS):
            raise self.fail(
                f"{describe_tag(event.tag or '')} is not accepted: only {JSON_TYPES}", event
            )
        if len(self.stack) >= self.limits.max_depth:
            raise self.fail(f"nested more than {self.limits.max_depth} levels deep", event)
        nodes, size = self.nodes, self.size
        self.count(1, 2, event)
        self.stack.append(_Collection({} if mapping else [], event.anchor, nodes, size))

    def key(self, mapping: _Collection, event: yaml.Event) -> None:
        if isinstance(event, yaml.AliasEvent):
            raise self.fail("an alias as a mapping key; a key is a string", event)
        if not isinstance(event, yaml.ScalarEvent):
            raise self.fail("a mapping or list as a mapping key; a key is a string", event)
        if event.tag not in _STRING_TAGS:
            raise self.fail(
                f"{describe_tag(event.tag or '')} on a mapping key; a key is a string", event
            )
        key = event.value
        if len(key) > self.limits.max_string:
            raise self.fail(
                f"a key of {len(key)} characters; at most {self.limits.max_string}", event
            )
        self.count(1, len(key) + 4, event)
        merge = event.tag is None and event.implicit[0] and key == "<<"
        mark = event.start_mark
        assert mark is not None  # noqa: S101 - a parser's events carry their position
        if key in mapping.seen:
            line, column = mapping.seen[key]
            raise self.fail(
                f"the key {_key(key)} is given twice (first at line {line}, column {column})", event
            )
        mapping.seen[key] = (mark.line + 1, mark.column + 1)
        mapping.key = _MERGE if merge else key
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchored(key, 1, len(key) + 2)

    def put(self, collection: _Collection, value: Any, event: yaml.Event) -> None:
        if isinstance(collection.value, list):
            collection.value.append(value)
            return
        if collection.key is _MERGE:
            merged = value if isinstance(value, list) else [value]
            if not all(isinstance(item, dict) for item in merged):
                raise self.fail("a merge key (<<) takes a mapping or a list of mappings", event)
            collection.merges += merged
        else:
            collection.value[collection.key] = value
        collection.key = None

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        try:
            value = scalar_value(event, self.limits)
        except DocumentError as error:
            raise DocumentError(
                error.problem, line=error.line, column=error.column, location=self.location()
            ) from None
        self.count(1, len(value) + 2 if isinstance(value, str) else len(event.value) + 1, event)
        return value

    def alias(self, event: yaml.AliasEvent) -> Any:
        anchored = self.anchors.get(event.anchor or "")
        if anchored is None:
            raise self.fail("an alias to no anchor before it (or to the value it is in)", event)
        self.count(anchored.nodes, anchored.size, event)
        return anchored.value


def _syntax_error(
    error: yaml.YAMLError, text: str, location: tuple[str | int, ...]
) -> DocumentError:
    """libyaml's words for what is wrong and where; never its snippet of the text."""
    if isinstance(error, yaml.reader.ReaderError):  # a character YAML does not allow
        line, column = _line_column(text, error.position)
        return DocumentError(
            "not valid YAML: a character YAML does not allow",
            line=line,
            column=column,
            location=location,
        )
    problem = str(getattr(error, "problem", None) or "not valid YAML")[:120]
    if not yamlio.LIBYAML:  # the pure-Python parser quotes the character it stopped at
        problem = re.sub(r"'[^']*'", "a character", problem)
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return DocumentError(f"not valid YAML: {problem}", location=location)
    return DocumentError(
        f"not valid YAML: {problem}",
        line=mark.line + 1,
        column=mark.column + 1,
        location=location,
    )


def _load_yaml(text: str, limits: DocumentLimits) -> Any:
    return _YamlReader(text, limits).read()


# --- JSON ------------------------------------------------------------------------------------

# A complete string, a structural character, a bare word (number, true, false, null or not
# JSON at all) or the quote of a string never closed. Possessive: linear on any input.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"|[{}\[\]:,]|[^\s"{}\[\]:,]++|"', re.S)
_JSON_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NOT_NUMBERS = frozenset({"NaN", "Infinity", "-Infinity"})


class _JsonSyntaxError(DocumentError):
    """Not JSON as written (the text may still be YAML)."""


@dataclass
class _JsonLevel:
    mapping: bool
    seen: dict[str, int] = field(default_factory=dict)
    key: str | None = None
    index: int = 0
    wants_key: bool = True

    def place(self) -> str | int | None:
        return self.key if self.mapping else self.index


class _JsonScan:
    """Apply the limits to JSON text and find duplicate keys, token by token, before
    :func:`json.loads` builds anything (it then nests no deeper than allowed)."""

    def __init__(self, text: str, limits: DocumentLimits) -> None:
        self.text = text
        self.limits = limits
        self.stack: list[_JsonLevel] = []
        self.nodes = 0
        self.size = 0

    def fail(self, problem: str, offset: int) -> DocumentError:
        line, column = _line_column(self.text, offset)
        location = tuple(p for level in self.stack if (p := level.place()) is not None)
        return DocumentError(problem, line=line, column=column, location=location)

    def run(self) -> None:
        limits = self.limits
        for token in _JSON_TOKEN.finditer(self.text):
            found, start = token.group(), token.start()
            self.size += len(found)
            first = found[0]
            if first == '"':
                if len(found) == 1 or not self.string(found, start):
                    return  # a string never closed, or a bad escape: json.loads says where
            elif first in "{[":
                if len(self.stack) >= limits.max_depth:
                    raise self.fail(f"nested more than {limits.max_depth} levels deep", start)
                self.nodes += 1
                self.stack.append(_JsonLevel(mapping=first == "{"))
            elif first in "}]":
                if self.stack:
                    self.stack.pop()
            elif first == ",":
                if self.stack:
                    top = self.stack[-1]
                    top.wants_key = top.mapping
                    top.index += 1
            elif first != ":":
                self.word(found, start)
            if self.nodes > limits.max_nodes:
                raise self.fail(f"more than {limits.max_nodes} values", start)
            if self.size > limits.max_size:
                raise self.fail(f"more than {_size(limits.max_size)} as JSON", start)

    def string(self, found: str, start: int) -> bool:
        """Count a string (a key: check it is new); False when it cannot be decoded."""
        self.nodes += 1
        if len(found) - 2 > self.limits.max_string:
            raise self.fail(
                f"a string of {len(found) - 2} characters; at most {self.limits.max_string}",
                start,
            )
        if "\\" in found:
            try:
                text = json.loads(found)
                text.encode()
            except UnicodeEncodeError:  # "\ud800" alone: no UTF-8 file or message can hold it
                raise self.fail("a lone UTF-16 surrogate in a string", start) from None
            except ValueError:
                return False
        else:
            text = found[1:-1]
        top = self.stack[-1] if self.stack else None
        if top is None or not top.mapping or not top.wants_key:
            return True
        key = text
        if key in top.seen:
            line, column = _line_column(self.text, top.seen[key])
            raise self.fail(
                f"the key {_key(key)} is given twice (first at line {line}, column {column})",
                start,
            )
        top.seen[key] = start
        top.key, top.wants_key = key, False
        return True

    def word(self, found: str, start: int) -> None:
        """A number, true, false or null (or not JSON: json.loads says so)."""
        self.nodes += 1
        if len(found) > self.limits.max_number:
            raise self.fail(
                f"a number of {len(found)} characters; at most {self.limits.max_number}", start
            )
        if found in _NOT_NUMBERS or (
            _JSON_FLOAT.fullmatch(found) and not math.isfinite(float(found))
        ):
            raise self.fail("infinity and NaN are not JSON numbers", start)


def _load_json(text: str, limits: DocumentLimits) -> Any:
    _JsonScan(text, limits).run()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # error.msg is the decoder's words ("Expecting ',' delimiter"), never the text.
        raise _JsonSyntaxError(
            f"not valid JSON: {error.msg}", line=error.lineno, column=error.colno
        ) from None
    except (ValueError, RecursionError):  # not reached within the scan's limits
        raise _JsonSyntaxError("not valid JSON") from None

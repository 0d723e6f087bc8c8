"""Helm template expressions in values: neutralised where gunj writes them, found where a person
wrote them.

Several chart values are evaluated with Helm's ``tpl`` (``data/templated.yaml`` lists them per
chart). A ``{{`` in one of them runs as template code when the chart is installed, with the
installer's credentials: ``lookup`` reads any object of the cluster gunj may read. So every
``{{`` gunj derives from a spec into such a value is written as ``{{`{{`}}``, which ``tpl``
renders back to a literal ``{{`` (a ``}}`` outside an action is plain text already). A free-form
``config`` override is a person's own Helm values: its expressions are reported, for the engine to
refuse unless the target cluster allows templates. The engine checks the complete values too
(:func:`evaluated_expressions`), after every layer is merged: ``valuesFrom`` content reaches
Helm only through that check.

Values are checked as Helm reads them: as the Helm client writes them (JSON, any other type as
its text), so a ``!!binary`` value, a set or a date is checked in the form Helm gets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .problems import Problem, format_path
from .spec import ObservabilityPlatform
from .templated import ANY_ITEM, TemplatedPath, templated_charts

OPEN = "{{"
ESCAPED_OPEN = "{{`{{`}}"
_OPEN = re.compile(re.escape(OPEN))
_ANY_KEY = "*"


def neutralise(text: str, evaluations: int = 1) -> str:
    """``text`` as it must be written for ``evaluations`` passes of ``tpl`` to render exactly
    ``text``."""
    for _ in range(evaluations):
        text = _OPEN.sub(lambda _: ESCAPED_OPEN, text)
    return text


def _step(token: str, part: str | int) -> bool:
    if token == ANY_ITEM:
        return isinstance(part, int)
    if token == _ANY_KEY:
        return isinstance(part, str)
    return token == part


def covers(pattern: TemplatedPath, location: tuple[str | int, ...], *, key: bool) -> bool:
    """Whether the value at ``location`` (or, with ``key``, the map key that ends it) is
    evaluated. A subtree's values are evaluated from its root down, its keys below its root."""
    tokens = pattern.tokens
    if pattern.subtree:
        head = tokens[:-1]
        deep_enough = len(location) > len(head) if key else len(location) >= len(head)
        return deep_enough and all(map(_step, head, location[: len(head)]))
    return not key and len(location) == len(tokens) and all(map(_step, tokens, location))


def evaluated_at(component: str, location: tuple[str | int, ...]) -> list[TemplatedPath]:
    """The entries of the table under which the chart evaluates the value at ``location``."""
    chart = templated_charts().get(component)
    return [p for p in (chart.paths if chart else ()) if covers(p, location, key=False)]


def _evaluations(
    paths: tuple[TemplatedPath, ...], location: tuple[str | int, ...], *, key: bool
) -> int:
    """How often the chart evaluates the value (or key) at ``location``: 0 when never."""
    return max((p.evaluations for p in paths if covers(p, location, key=key)), default=0)


def _neutralised(
    node: Any, location: tuple[str | int, ...], paths: tuple[TemplatedPath, ...]
) -> Any:
    if isinstance(node, Mapping):
        result = {}
        for name, value in node.items():
            child = (*location, str(name))
            key = str(name)
            if OPEN in key:
                key = neutralise(key, _evaluations(paths, child, key=True))
            result[key] = _neutralised(value, child, paths)
        return result
    if isinstance(node, list):
        return [_neutralised(item, (*location, index), paths) for index, item in enumerate(node)]
    if isinstance(node, str) and OPEN in node:
        return neutralise(node, _evaluations(paths, location, key=False))
    return node


def neutralise_values(component: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with the template delimiters of every string the component's chart
    evaluates neutralised; nothing else changes."""
    chart = templated_charts().get(component)
    result: dict[str, Any] = _neutralised(values, (), chart.paths if chart else ())
    return result


def as_helm_reads(values: Any) -> Any:
    """``values`` as Helm reads them: as the Helm client writes them (JSON, any other type as
    its ``str``, as :class:`shared.helm.client.HelmClient` does), so that a value of any YAML
    type (``!!binary`` bytes, a set, a date) is checked in the text Helm gets. A key of any type
    is its text too (where JSON would refuse it, the check still sees it)."""
    if isinstance(values, Mapping):
        return {_key(key): as_helm_reads(value) for key, value in values.items()}
    if isinstance(values, list | tuple):
        return [as_helm_reads(item) for item in values]
    if values is None or isinstance(values, str | int | float | bool):
        return values
    return str(values)


def _key(key: Any) -> str:
    """A map key as JSON writes it (``true``, ``1``, ``null``), or its ``str``."""
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    return str(key)


def _strings_and_keys(
    node: Any, location: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str, bool]]:
    """Every map key and every string inside ``node`` (as Helm reads it), with its location
    and whether it is a key."""
    if isinstance(node, Mapping):
        for name, value in node.items():
            yield (*location, str(name)), str(name), True
            yield from _strings_and_keys(value, (*location, str(name)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _strings_and_keys(item, (*location, index))
    elif isinstance(node, str):
        yield location, node, False


def expressions_in(values: Any, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """The path of every key and string in ``values`` that holds a template expression."""
    return sorted(
        {
            format_path(location)
            for location, text, _ in _strings_and_keys(as_helm_reads(values), prefix)
            if OPEN in text
        }
    )


def runs_code(text: str, evaluations: int) -> bool:
    """Whether ``evaluations`` passes of ``tpl`` over ``text`` run anything: only text whose
    every ``{{`` opens gunj's own escape (as often as it is evaluated) renders as text."""
    for _ in range(evaluations):
        if OPEN not in text:
            return False
        # Left to right, as Go's lexer reads it: each "{{" must start an escape.
        position = text.find(OPEN)
        while position >= 0:
            if not text.startswith(ESCAPED_OPEN, position):
                return True
            position = text.find(OPEN, position + len(ESCAPED_OPEN))
        text = text.replace(ESCAPED_OPEN, OPEN)
    return False


def evaluated_expressions(
    component: str, values: Mapping[str, Any], prefix: tuple[str | int, ...] = ()
) -> list[str]:
    """The path of every key and string of the complete ``values`` that the component's chart
    evaluates and that would run as a template there (what gunj neutralised renders as text)."""
    chart = templated_charts().get(component)
    paths = chart.paths if chart else ()
    found = set()
    for location, text, key in _strings_and_keys(as_helm_reads(values), ()):
        if OPEN in text and runs_code(text, _evaluations(paths, location, key=key)):
            found.add(format_path((*prefix, *location)))
    return sorted(found)


def template_expressions(platform: ObservabilityPlatform) -> list[Problem]:
    """Every template expression in a component's free-form ``config``: apply refuses it unless
    the target cluster's registry entry allows templates (where the chart evaluates the value,
    Helm would run it with gunj's credentials)."""
    problems = []
    for component in platform.spec.enabled():
        spec = platform.spec.component(component)
        if spec is None or not spec.config:
            continue
        base = format_path(("spec", component, "config"))
        evaluated = set(evaluated_expressions(component, spec.config))
        for path in expressions_in(spec.config):
            where = base + (path if path.startswith("[") else f".{path}")
            if path in evaluated:
                message = (
                    "holds a Helm template expression ('{{') where the chart evaluates values "
                    "as templates: it would run with gunj's credentials (lookup reads any "
                    "Secret of the cluster), so apply refuses it unless the target cluster's "
                    "registry entry allows templates"
                )
            else:
                message = (
                    "holds a Helm template expression ('{{'); the chart does not evaluate this "
                    "value, but apply refuses any in config unless the target cluster's "
                    "registry entry allows templates"
                )
            problems.append(Problem(where, message))
    return problems

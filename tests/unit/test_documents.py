"""The bounded document loader: each limit, each refused tag, duplicate keys by line and
column, aliases that cost what they expand to, and messages that never quote the document;
each with libyaml's parser, which gunj uses where PyYAML has it, and with PyYAML's own."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
import yaml

from shared import yamlio
from shared.documents import DocumentError, DocumentLimits, load_document
from shared.values.validation import InvalidPlatform, load_platform
from tests import hostile

LIMITS = DocumentLimits(
    max_bytes=64 * 1024,
    max_size=16 * 1024,
    max_nodes=1_000,
    max_depth=10,
    max_string=100,
    max_number=20,
)
SECRET = "hunter2-secret-value"


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test with either parser: the limits hold on the events of both."""
    if request.param == "libyaml":
        # The machines gunj runs on install PyYAML's wheels, which hold libyaml.
        assert yamlio.LIBYAML and yamlio.SafeLoader is yaml.CSafeLoader
    else:
        monkeypatch.setattr(yamlio, "SafeLoader", yaml.SafeLoader)
        monkeypatch.setattr(yamlio, "LIBYAML", False)
    return str(request.param)


def refused(content: str | bytes, syntax: Any = "yaml") -> DocumentError:
    with pytest.raises(DocumentError) as error:
        load_document(content, LIMITS, syntax=syntax)
    assert not error.value.transient
    assert error.value.__cause__ is None
    return error.value


def alias_bomb(levels: int = 9) -> str:
    """Nine levels of nine aliases: about 550 bytes that name 9**9 values."""
    names = [chr(ord("a") + i) for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join([SECRET] * 9)}]"]
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("content", "problem", "where"),
    [
        (
            f"password: !!binary {SECRET}\n",
            "the tag !!binary is not accepted",
            "password (line 1, column 11)",
        ),
        (f"a: !!set {{{SECRET}: null}}\n", "the tag !!set is not accepted", "a (line 1, column 4)"),
        (
            f"a: !!omap [{{x: {SECRET}}}]\n",
            "the tag !!omap is not accepted",
            "a (line 1, column 4)",
        ),
        (f"a: !!pairs [{{x: {SECRET}}}]\n", "the tag !!pairs", "a (line 1, column 4)"),
        (
            f"a:\n  b: !!python/object:os.system {SECRET}\n",
            "the tag !!python/object is not accepted",
            "a.b (line 2, column 6)",
        ),
        (f"a: !!python/name:os.system {SECRET}\n", "the tag !!python/name", "a (line 1"),
        (f"a: !!timestamp {SECRET}\n", "the tag !!timestamp", "a (line 1, column 4)"),
        # A tag of one's own is not named: its text is the document's.
        (f"password: !{SECRET} x\n", "a tag of its own is not accepted", "password (line 1"),
        (f"list: [1, !<tag:{SECRET}> x]\n", "a tag of its own", "list[1] (line 1, column 11)"),
    ],
)
def test_every_tag_but_the_json_types_is_refused_naming_where(
    content: str, problem: str, where: str
) -> None:
    error = refused(content)

    assert problem in str(error) and "only mappings, lists, strings" in str(error)
    assert str(error).startswith(where)
    assert SECRET not in str(error)


@pytest.mark.parametrize(
    "content",
    ["a: !!bool maybe", "a: !!bool ''", "a: !!int", "a: !!int _", "a: !!float ''", "a: !!int 0x"],
)
def test_a_json_tag_on_a_value_it_cannot_take_is_refused(content: str) -> None:
    error = refused(content)

    assert error.problem.startswith("not a valid ") and error.line == 1


def test_duplicate_keys_are_refused_with_both_lines_and_columns() -> None:
    yaml_error = refused(f"spec:\n  prometheus:\n    replicas: 2\n  prometheus:\n    x: {SECRET}\n")
    json_error = refused('{"spec": {"a": 1,\n  "a": 2}}', syntax="json")

    assert str(yaml_error) == (
        'spec (line 4, column 3): the key "prometheus" is given twice (first at line 2, column 3)'
    )
    assert str(json_error) == (
        'spec.a (line 2, column 3): the key "a" is given twice (first at line 1, column 11)'
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[" * 11 + "]" * 11, "nested more than 10 levels deep"),
        ("".join("  " * i + "a:\n" for i in range(12)), "nested more than 10 levels deep"),
        ("a: " + "x" * 101, "a string of 101 characters; at most 100"),
        ("x" * 101 + ": 1", "a key of 101 characters; at most 100"),
        ("a: " + "9" * 5000, "a number of 5000 characters; at most 20"),
        ("a: 1." + "9" * 30, "a number of 32 characters; at most 20"),
        ("[" + "1," * 1000 + "1]", "more than 1000 values"),
        ("a: .inf", "infinity and NaN are not JSON numbers"),
        ("a: [" + ", ".join(["x" * 99] * 200) + "]", "more than 16.0 KiB as JSON"),
    ],
)
def test_each_limit_refuses_yaml_where_it_is_passed(content: str, problem: str) -> None:
    error = refused(content)

    assert problem in error.problem
    assert error.line is not None and error.column is not None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[" * 30_000 + "]" * 30_000, "nested more than 10 levels deep"),
        ('{"a": "' + "x" * 101 + '"}', "a string of 101 characters; at most 100"),
        ('{"a": ' + "9" * 5000 + "}", "a number of 5000 characters; at most 20"),
        ('{"a": 1e999}', "infinity and NaN are not JSON numbers"),
        ('{"a": NaN}', "infinity and NaN are not JSON numbers"),
        ("[" + "1," * 1000 + "1]", "more than 1000 values"),
        ("[" + ", ".join(['"' + "x" * 99 + '"'] * 200) + "]", "more than 16.0 KiB as JSON"),
    ],
)
def test_each_limit_refuses_json_without_recursing(content: str, problem: str) -> None:
    for syntax in ("json", "yaml"):
        error = refused(content, syntax)

        assert problem in error.problem
        assert error.line == 1 and error.column is not None


def test_a_document_over_the_size_is_refused_unread() -> None:
    error = refused("a: " + "x" * 70_000)

    assert error.problem == "the document is 68.4 KiB; at most 64.0 KiB is read"


def test_an_alias_bomb_is_refused_by_what_it_expands_to_before_it_is_built() -> None:
    bomb = alias_bomb()
    assert len(bomb.encode()) < 1_000

    error = refused(bomb)

    assert "(aliases expanded)" in str(error) and error.location[0] == "c"
    assert SECRET not in str(error)
    short = alias_bomb().replace(SECRET, "x")
    assert "more than 1000 values (aliases counted as expanded)" in str(refused(short))


def test_an_alias_to_itself_or_to_nothing_is_refused() -> None:
    assert "an alias to no anchor" in str(refused("a: &a [1, *a]\n"))
    assert "an alias to no anchor" in str(refused(f"a: *{SECRET}\n"))
    assert SECRET not in str(refused(f"a: *{SECRET}\n"))


def test_a_small_anchor_reuse_and_merge_keys_read_as_yaml_has_them() -> None:
    document = load_document(
        "base: &base {replicas: 2, image: x}\n"
        "a: *base\n"
        "b:\n  <<: *base\n  replicas: 3\n"
        "c:\n  <<: [{p: 1}, {p: 2, q: 2}]\n",
        LIMITS,
    )

    assert document == {
        "base": {"replicas": 2, "image": "x"},
        "a": {"replicas": 2, "image": "x"},
        "b": {"image": "x", "replicas": 3},
        "c": {"p": 1, "q": 2},
    }


def test_scalars_are_json_types_keys_are_strings_and_timestamps_stay_as_written() -> None:
    document = load_document(
        "date: 2024-01-01\n"
        "time: 2024-01-01T10:00:00Z\n"
        "on: yes\n"
        "1: 0x1F\n"
        "float: 1.5\n"
        "null: ~\n"
        "quoted: '123'\n"
        "text: ! 12\n",
        LIMITS,
    )

    assert document == {
        "date": "2024-01-01",
        "time": "2024-01-01T10:00:00Z",
        "on": True,
        "1": 31,
        "float": 1.5,
        "null": None,
        "quoted": "123",
        "text": "12",
    }
    assert json.loads(json.dumps(document)) == document


def test_json_is_read_as_json_and_yaml_flow_style_as_yaml() -> None:
    long_key = "k" * 90  # past YAML's 1024-character simple keys is JSON only; 90 here
    text = json.dumps({"emoji": "\U0001f600", long_key: 1, "e": 1e5})

    assert load_document(text, LIMITS) == {"emoji": "\U0001f600", long_key: 1, "e": 100000.0}
    assert load_document("{a: 1, b: [x]}", LIMITS) == {"a": 1, "b": ["x"]}
    assert "not valid JSON" in str(refused('{"a": 1,, }'))


def test_more_than_one_document_is_refused_and_empty_ones_are_nothing() -> None:
    assert load_document("a: 1\n---\n", LIMITS) == {"a": 1}
    assert load_document("", LIMITS) is None
    assert str(refused("a: 1\n---\nb: 2\n")) == "line 2, column 1: more than one document"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (f"a: [{SECRET}\n", "line 2, column 1"),
        (f"password: '{SECRET}\n", "line 2, column 1"),
        (f"password: {SECRET}: x\n", "line 1, column 31"),
        (f"password: {SECRET}\x00\n", "line 1, column 31"),
        (b"password: \xff" + SECRET.encode(), "byte 11"),
        (f"password: \ud800{SECRET}\n", "line 1, column 11"),  # a lone surrogate
        (f'{{"password": "\\ud800{SECRET}"}}', "password (line 1, column 14)"),
        (f'{{"password": "{SECRET}\\q"}}', "line 1, column 35"),
    ],
)
def test_syntax_errors_say_where_and_never_what(content: str | bytes, where: str) -> None:
    error = refused(content)

    assert where in str(error)
    assert SECRET not in str(error) and "hunter2" not in str(error)


@pytest.mark.parametrize("item", hostile.specs(), ids=lambda item: item.name)
def test_hostile_specs_are_refused_naming_where_and_quoting_nothing(item: hostile.Hostile) -> None:
    with pytest.raises(InvalidPlatform) as error:
        load_platform(item.data)

    said = "; ".join(str(problem) for problem in error.value.problems)
    assert item.where in said
    assert hostile.SECRET not in said

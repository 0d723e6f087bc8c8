"""An index is read as hostile input: aliases, tags, duplicate keys, deep nesting, numbers that
cannot be read and more entries than the limit are refused where they are met, naming the
repository and the place; what an index legitimately holds is read as before."""

from __future__ import annotations

import pytest
import yaml

from shared.helm.errors import InvalidIndex, RepositoryLimitExceeded
from shared.helm.index import parse_index

URL = "https://charts.example"


def test_what_gunj_uses_of_an_entry_is_kept() -> None:
    index = parse_index(
        URL,
        b"""
apiVersion: v1
entries:
  tempo:
    - version: 2.2.4
      appVersion: 2.10.8
      urls: [tempo-2.2.4.tgz, "https://mirror.example/tempo-2.2.4.tgz"]
      digest: abc
      deprecated: true
      created: "2026-01-01T00:00:00Z"
      kubeVersion: ">=1.25.0-0"
      annotations: {category: Tracing, count: 3}
      maintainers: [{name: someone, email: a@b.c}]
      dependencies: [{name: x, repository: "file://../x", version: 1.0.0}]
  empty:
generated: "2026-01-01T00:00:00Z"
serverInfo: {contextPath: /x}
""",
    )

    (tempo,) = index.versions("tempo")
    assert tempo.urls == ("tempo-2.2.4.tgz", "https://mirror.example/tempo-2.2.4.tgz")
    assert (tempo.app_version, tempo.digest, tempo.deprecated) == ("2.10.8", "abc", True)
    assert tempo.annotations == {"category": "Tracing", "count": "3"}
    assert index.versions("empty") == ()


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            "entries:\n  a: &x [{version: 1.0.0}]\n  b: *x\n",
            "uses a YAML alias; an index has none (line 3, column 6)",
        ),
        (
            "entries:\n  a:\n  - version: !!binary aGVsbG8=\n",
            "the tag !!binary is not accepted",
        ),
        ("entries:\n  a:\n  - version: !!python/name:os.system x\n", "the tag !!python/name"),
        (
            "entries:\n  a:\n  - version: 1.0.0\n    version: 2.0.0\n",
            "repeats the key 'version' (line 4, column 5)",
        ),
        ("entries: {}\nentries: {}\n", "repeats the key 'entries'"),
        ("entries:\n  a:\n  - version: " + "9" * 5000 + "\n", "has a value that cannot be read"),
        (
            "entries:\n  a:\n  - {version: 1.0.0, annotations: " + "[" * 50 + "]" * 50 + "}\n",
            "nests values more than 8 levels deep",
        ),
        ("entries: {}\n---\nentries: {}\n", "holds more than one YAML document"),
        ("entries: [1, 2]\n", "no entries"),
        ("entries:\n  a: {version: 1.0.0}\n", "lists the versions of a in something not a list"),
        ("entries:\n  a:\n  - [1.0.0]\n", "has an entry of a that is not a mapping"),
        ("entries:\n  a:\n  - appVersion: 1\n", "has an entry of a with no version"),
        ("entries:\n  a:\n  - {version: 1.0.0, urls: x.tgz}\n", "that is malformed"),
        ("entries:\n  a:\n  - {version: 1.0.0\n", "is not valid YAML"),
        ("", "no entries"),
    ],
)
def test_a_hostile_or_broken_index_is_refused_where_it_goes_wrong(
    document: str, problem: str
) -> None:
    with pytest.raises(InvalidIndex) as refused:
        parse_index(URL, document.encode(), named="repository x: index")

    assert str(refused.value).startswith("repository x: index ")
    assert problem in str(refused.value)
    assert not refused.value.transient


def test_entries_over_the_limit_are_refused_as_soon_as_they_are_counted() -> None:
    versions = [{"version": f"1.0.{n}"} for n in range(20)]
    document = yaml.safe_dump({"entries": {"a": versions, "b": []}}).encode()

    assert len(parse_index(URL, document, max_entries=22).versions("a")) == 20
    with pytest.raises(RepositoryLimitExceeded, match="more than 21 entries") as refused:
        parse_index(URL, document, max_entries=21)
    assert "GUNJ_REPOSITORY_INDEX_ENTRIES" in str(refused.value)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested more than 32 levels"),
        (b'{"tags": ["1.0.0"],\n "tags": ["9.9.9"]}', 'the key "tags" is given twice'),
        (b'{"tags": [' + b"1," * 200_000 + b"1]}", "more than 100000 values"),
        (b"[]", "is not a JSON object"),
    ],
)
def test_a_registry_answer_is_read_within_the_document_limits(body: bytes, problem: str) -> None:
    from shared.helm.oci import _json

    with pytest.raises(InvalidIndex, match=problem) as refused:
        _json(body, "registry x: the tag list")

    assert str(refused.value).startswith("registry x: the tag list ")

"""What a valuesFrom entry's content gives the reconcile: its values layer, and the secrets the
redactor scrubs from everything gunj says. Content that is not valid YAML is refused naming the
field, the source and the position, never quoting the content; each value of a YAML document
of secrets is scrubbed on its own, whatever its length, while its keys, and its short settings
where a message uses them as words of its own, are left readable."""

from __future__ import annotations

from typing import Any

import pytest

from shared.engine.sources import ResolvedValues, ValuesSourceInvalid
from shared.redaction import Redactor
from shared.values.spec.common import ValuesFrom

FIELD = "spec.prometheus.valuesFrom[1]"


def reference(**entry: Any) -> ValuesFrom:
    return ValuesFrom.model_validate({"kind": "Secret", "name": "db-values", **entry})


def registered(*entries: tuple[ValuesFrom, str]) -> Redactor:
    resolved = ResolvedValues()
    for entry, content in entries:
        resolved.add(entry, content, FIELD)
    redactor = Redactor()
    resolved.register(redactor)
    return redactor


@pytest.mark.parametrize(
    ("content", "position"),
    [
        ("server:\n  password: hunter2: x\n", "line 2, column 20"),  # a colon in a plain value
        ("password: 'hunter2\n", "line 2, column 1"),  # a quote never closed
        ("password: *hunter2\n", "line 1, column 11"),  # an alias never defined
        ("password: !hunter2 x\n", "line 1, column 11"),  # a tag YAML cannot construct
        ("password: hunter2\n\tother: x\n", "line 2, column 1"),  # a tab for indentation
        ("password: hunter2\x00\n", "line 1, column 18"),  # a character YAML does not allow
        ("password: !!binary aHVudGVyMg==\n", "password (line 1, column 11): the tag !!binary"),
        (
            "server: {password: hunter2}\nserver: {}\n",
            'line 2, column 1: the key "server" is given twice',
        ),
        (
            "a: &a [hunter2, hunter2, hunter2, hunter2, hunter2, hunter2, hunter2, hunter2]\n"
            + "".join(
                f"{n}: &{n} [{', '.join([f'*{p}'] * 8)}]\n"
                for p, n in zip("abcdefghi", "bcdefghij", strict=True)
            ),
            "(aliases counted as expanded)",  # an alias bomb: refused before it is built
        ),
        ("port: " + "9" * 5000 + "\n", "port (line 1, column 7): a number of 5000 characters"),
    ],
)
def test_content_that_is_not_yaml_is_refused_by_field_source_and_position(
    content: str, position: str
) -> None:
    resolved = ResolvedValues()

    with pytest.raises(ValuesSourceInvalid) as refused:
        resolved.add(reference(), content, FIELD)

    message = str(refused.value)
    assert message.startswith(f"{FIELD}: Secret db-values key values.yaml: ")
    assert position in message
    assert "hunter2" not in message
    assert not refused.value.transient
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert resolved.layers == []


def test_every_value_of_a_yaml_document_of_secrets_is_scrubbed_on_its_own() -> None:
    document = (
        "server:\n"
        "  password: s3cr3t\n"
        "  port: 5432100\n"
        "  tokens: [first-token-value, second-token-value]\n"
        "  tls:\n"
        "    key: |\n"
        "      -----BEGIN KEY-----\n"
        "      key-material-line\n"
        "      -----END KEY-----\n"
        "  retention: 2d\n"
        "  replicas: 3\n"
        "  enabled: true\n"
        "  level: info\n"
    )
    redactor = registered((reference(), document))

    for value in ("s3cr3t", "5432100", "first-token-value", "second-token-value"):
        assert redactor(f"chart said: {value}.") == "chart said: ***."
    # A multi-line value may be quoted a line at a time.
    assert redactor("bad key line key-material-line") == "bad key line ***"
    assert redactor(document) == "***"

    # Keys and short settings stay readable: they are the message's own words as often.
    readable = "server: password, port, tls, retention 2d, replicas 3, enabled true, level info"
    assert redactor(readable) == readable
    assert "server:" not in redactor
    assert "password: s3cr3t" not in redactor
    # Where a short value stands as a value, as a chart's or the API server's error quotes it,
    # it is scrubbed too.
    assert redactor('retention="2d" level=info\nreplicas: 3') == (
        'retention="***" level=***\nreplicas: ***'
    )


def test_a_single_value_is_scrubbed_whatever_its_length_and_configmaps_are_not_secret() -> None:
    redactor = registered(
        (reference(key="pin", targetPath="server.pin"), "4711"),
        (
            ValuesFrom.model_validate({"kind": "ConfigMap", "name": "settings"}),
            "server:\n  endpoint: public-endpoint\n",
        ),
    )

    assert redactor("pin 4711 refused") == "pin *** refused"
    assert redactor("endpoint public-endpoint") == "endpoint public-endpoint"

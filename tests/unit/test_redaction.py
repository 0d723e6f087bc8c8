"""The redactor scrubs a secret in every form text that leaves gunj may carry it in: as it is,
JSON-escaped, quoted as Go quotes a value in an error (the API server's and Helm's ``%q``),
base64 and URL encoded. A short secret is scrubbed where it stands whole and never inside
another word; a short value of a document of secrets only where it stands as a value. Each
reconcile has a redactor of its own, and a kubeconfig's names are no secrets."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.redaction import ANYWHERE_LENGTH, REDACTED, Redactor, scrub
from shared.secretforms import forms, go_quoted

# Text as a secret or a message may hold it: any character but the redaction's own stars and
# lone surrogates (no UTF-8 text holds one).
CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="*")
LONG_SECRETS = st.text(CHARACTERS, min_size=ANYWHERE_LENGTH, max_size=40).filter(
    lambda text: len(text.strip()) >= ANYWHERE_LENGTH
)
# Short secrets, written so that the messages' own words (upper case) never contain them.
SHORT_SECRETS = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_.!@#$%^()+/é☺"),
    min_size=1,
    max_size=ANYWHERE_LENGTH - 1,
).filter(lambda text: any(c.isalnum() for c in text))
AROUND = st.text(CHARACTERS, max_size=30)
PROPERTIES = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])


def every_form(secret: str) -> dict[str, str]:
    """The forms the issue names, computed with the standard library, as a reader decodes
    them."""
    data = secret.encode()
    return {
        "plain": secret,
        "json": json.dumps(secret)[1:-1],
        "json-utf8": json.dumps(secret, ensure_ascii=False)[1:-1],
        "go-quoted": go_quoted(secret),
        "base64": base64.b64encode(data).decode(),
        "base64-unpadded": base64.b64encode(data).decode().rstrip("="),
        "base64-url": base64.urlsafe_b64encode(data).decode(),
        "base64-url-unpadded": base64.urlsafe_b64encode(data).decode().rstrip("="),
        "url-path": quote(secret, safe=""),
        "url-query": quote_plus(secret),
    }


# --- the forms ---------------------------------------------------------------------------------


def test_go_quoting_is_strconv_quote() -> None:
    # The examples of Go's own documentation of strconv.Quote and QuoteToASCII.
    text = '"Fran & Freddie\'s Diner\t☺"'
    assert go_quoted(text) == '\\"Fran & Freddie\'s Diner\\t☺\\"'
    assert go_quoted(text, ascii_only=True) == '\\"Fran & Freddie\'s Diner\\t\\u263a\\"'
    assert go_quoted("\x07\x00\x7f\\\n\u2028😀\U000e0001") == (
        "\\a\\x00\\x7f\\\\\\n\\u2028😀\\U000e0001"
    )


def test_every_form_of_a_secret_is_listed() -> None:
    secret = 'pa ss"wo\\rd\n/é+?&'
    listed = forms(secret)
    assert set(every_form(secret).values()) <= listed
    # Go's encoding/json escapes what HTML would read, and a quote inside a quote doubles.
    assert 'pa ss\\"wo\\\\rd\\n/é+?\\u0026' in listed
    assert json.dumps(json.dumps(secret)[1:-1])[1:-1] in listed


# --- long secrets: every form, anywhere ---------------------------------------------------------


@PROPERTIES
@given(secret=LONG_SECRETS, before=AROUND, after=AROUND, data=st.data())
@example(secret='s3cr3t"\\\nline', before='Invalid value: "', after='": bad', data=None)
def test_every_form_of_a_long_secret_is_scrubbed_wherever_it_stands(
    secret: str, before: str, after: str, data: st.DataObject | None
) -> None:
    redactor = Redactor([secret])
    named = every_form(secret)
    chosen = data.draw(st.sampled_from(sorted(named))) if data else "go-quoted"
    form = named[chosen]

    scrubbed = redactor(f"{before}{form}{after}")

    assert form not in scrubbed, chosen
    assert REDACTED in scrubbed


@PROPERTIES
@given(secret=LONG_SECRETS)
def test_a_long_value_of_a_document_is_scrubbed_in_every_form_too(secret: str) -> None:
    redactor = Redactor()
    redactor.add_values(secret)

    for name, form in every_form(secret).items():
        assert form not in redactor(f"chart said {form}!"), name


def test_a_secret_in_a_real_api_server_error_is_scrubbed() -> None:
    secret = 'tok"en\\with\nnewline-é'
    quoted = go_quoted(secret)
    message = (
        'Deployment.apps "obs-server" is invalid: spec.template.spec.nodeSelector: '
        f'Invalid value: "{quoted}": a valid label must be an empty string'
    )

    scrubbed = Redactor([secret])(message)

    assert scrubbed == (
        'Deployment.apps "obs-server" is invalid: spec.template.spec.nodeSelector: '
        'Invalid value: "***": a valid label must be an empty string'
    )
    # And the same message as the API server's JSON Status carries it.
    assert secret not in Redactor([secret])(json.dumps({"message": message}))
    assert quoted not in Redactor([secret])(json.dumps({"message": message}))


# --- short secrets: whole, never inside a word ------------------------------------------------


@PROPERTIES
@given(secret=SHORT_SECRETS, data=st.data())
def test_a_short_secret_is_scrubbed_where_it_stands_whole(secret: str, data: st.DataObject) -> None:
    redactor = Redactor([secret])
    form = data.draw(st.sampled_from(sorted(set(every_form(secret).values()))))

    assert redactor(f'KEY="{form}"') == f'KEY="{REDACTED}"'
    assert redactor(f"KEY={form}&NEXT=Z") == f"KEY={REDACTED}&NEXT=Z"
    assert redactor(f"KEY: {form}\nNEXT: Z") == f"KEY: {REDACTED}\nNEXT: Z"
    assert redactor(f"  {form}\n") == f"  {REDACTED}\n"


@PROPERTIES
@given(secret=SHORT_SECRETS.filter(str.isalnum))
def test_a_short_secret_is_a_word_of_its_own_never_part_of_another(secret: str) -> None:
    redactor = Redactor([secret])

    assert redactor(f"TOKEN {secret} REFUSED") == f"TOKEN {REDACTED} REFUSED"
    inside = f"X{secret}Y and X{secret} and {secret}Y"
    assert redactor(inside) == inside


def test_a_three_character_password_leaves_other_words_alone() -> None:
    redactor = Redactor(["abc"])

    message = "cabbage abcd: fabc, password=abc, token 'abc', abc"
    assert redactor(message) == "cabbage abcd: fabc, password=***, token '***', ***"


@PROPERTIES
@given(value=SHORT_SECRETS)
def test_a_short_value_of_a_document_is_scrubbed_only_as_a_value(value: str) -> None:
    redactor = Redactor()
    redactor.add_values(value)

    assert redactor(f'KEY="{value}"') == f'KEY="{REDACTED}"'
    assert redactor(f"KEY={value}") == f"KEY={REDACTED}"
    assert redactor(f"KEY: {value}.") == f"KEY: {REDACTED}."
    assert redactor(f"{{KEY:{value}}}") == f"{{KEY:{REDACTED}}}"
    # As an ordinary word of a message it is left alone: the document's settings ("2d",
    # "info") are a message's own words as often.
    assert redactor(f"SET TO {value} NOW") == f"SET TO {value} NOW"


def test_documents_values_scrubbed_as_values_leave_sentences_readable() -> None:
    redactor = Redactor()
    redactor.add_values("2d", "info", "8080", "pw1")

    assert redactor("retention 2d, level info, port 8080") == "retention 2d, level info, port 8080"
    assert redactor('password: pw1\nport="8080" level=info') == (
        'password: ***\nport="***" level=***'
    )


def test_overlapping_secrets_vanish_whole() -> None:
    text = "auth failed for token abc123 (prefix abc)"

    assert scrub(text, ["abc", "abc123", ""]) == "auth failed for token *** (prefix ***)"


# --- one reconcile, one redactor --------------------------------------------------------------


def test_a_copy_knows_what_its_origin_knew_and_learns_alone() -> None:
    cluster = Redactor(["cluster-token-value"])
    first, second = cluster.copy(), cluster.copy()

    first.add("first-platform-secret")

    assert first("cluster-token-value first-platform-secret") == "*** ***"
    assert second("first-platform-secret") == "first-platform-secret"
    assert cluster("first-platform-secret") == "first-platform-secret"
    assert second("cluster-token-value") == "***"


@pytest.mark.parametrize("lines", [True, False])
def test_a_document_added_whole_keeps_its_lines_readable(lines: bool) -> None:
    document = "server:\n  password: long-enough-secret\n"
    redactor = Redactor()
    redactor.add(document, lines=lines)

    assert redactor(document) == REDACTED
    assert (redactor("server:") == "server:") is not lines

"""The forms a secret takes in text that leaves a program: as it is, escaped inside a JSON
string (Python's and Go's ``encoding/json``), quoted the way Go quotes a value in an error
(``strconv.Quote``, ``%q``: how the API server and Helm quote an invalid value), base64 encoded
(standard and URL-safe alphabets, with and without padding) and URL encoded (path and query
style). Escaping is also taken twice over, as an error quoted inside another error's quote
shows it.

Each form is the text between the quotes, never the quotes themselves: the value is found
wherever the quoted string stands.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from urllib.parse import quote, quote_plus

# Go's strconv escapes for these runes; JSON's table is Python's json module's.
_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}
# What Go's encoding/json escapes beyond JSON's own: HTML's special characters and the line and
# paragraph separators JavaScript does not allow in a string; older Go wrote \b and \f as \u.
_GO_JSON_EXTRA = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_OLD_GO_JSON = {"\b": "\\u0008", "\f": "\\u000c"}


def _go_printable(character: str, unassigned: bool) -> bool:
    """Go's ``strconv.IsPrint``: letters, marks, numbers, punctuation, symbols and the ASCII
    space (Python's ``isprintable`` draws the same line). A character Python's Unicode tables
    do not know yet may be one a newer Go prints as it is: ``unassigned`` says it is."""
    if unassigned and unicodedata.category(character) == "Cn":
        return True
    return character.isprintable()


def go_quoted(text: str, *, ascii_only: bool = False, unassigned: bool = False) -> str:
    """``text`` as Go's ``strconv.Quote`` writes it (``QuoteToASCII`` with ``ascii_only``),
    without the surrounding quotes; ``unassigned``: taking characters unassigned in Python's
    Unicode version as printable (Go's tables may be newer)."""
    out: list[str] = []
    for character in text:
        code = ord(character)
        if character in _GO_ESCAPES:
            out.append(_GO_ESCAPES[character])
        elif _go_printable(character, unassigned) and (code < 0x80 or not ascii_only):
            out.append(character)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def json_escaped(text: str, *, ascii_only: bool = True) -> str:
    """``text`` inside a JSON string as Python writes it, without the quotes."""
    return json.dumps(text, ensure_ascii=ascii_only)[1:-1]


def go_json_escaped(text: str, *, old: bool = False) -> str:
    """``text`` inside a JSON string as Go's ``encoding/json`` writes it (``old``: as Go
    before 1.22 wrote \\b and \\f), without the quotes."""
    table = {**_GO_JSON_EXTRA, **(_OLD_GO_JSON if old else {})}
    return "".join(table[c] if c in table else json_escaped(c, ascii_only=False) for c in text)


def base64_forms(text: str) -> set[str]:
    """``text``'s UTF-8 bytes in base64: standard and URL-safe, padded and not."""
    data = text.encode("utf-8", "surrogatepass")
    standard = base64.b64encode(data).decode()
    url_safe = base64.urlsafe_b64encode(data).decode()
    return {standard, standard.rstrip("="), url_safe, url_safe.rstrip("=")}


def url_forms(text: str) -> set[str]:
    """``text`` URL encoded: as a path (``/`` kept or not) and as a query value (space as
    ``+``), which is also what Go's ``url.QueryEscape`` writes."""
    try:
        return {quote(text, safe=""), quote(text), quote_plus(text)}
    except UnicodeEncodeError:  # a lone surrogate: no URL holds it
        return set()


def escaped_forms(text: str) -> set[str]:
    """The forms ``text`` takes inside quoted strings (JSON's and Go's)."""
    return {
        json_escaped(text),
        json_escaped(text, ascii_only=False),
        go_json_escaped(text),
        go_json_escaped(text, old=True),
        go_quoted(text),
        go_quoted(text, unassigned=True),
        go_quoted(text, ascii_only=True),
    }


def forms(text: str) -> set[str]:
    """Every form of ``text`` (itself included) to look for in text that leaves gunj."""
    found = {text} | base64_forms(text) | url_forms(text)
    once = escaped_forms(text)
    found |= once
    # An error quoted inside another error's quote: escaped twice over.
    for escaped in once - {text}:
        found |= escaped_forms(escaped)
    found.discard("")
    return found

"""Secret values kept out of everything gunj says: errors, log lines, events and status.

A :class:`Redactor` collects the secret strings a reconcile comes to know (resolved
``valuesFrom`` content, repository passwords, cluster tokens) and replaces each of them wherever
text leaves gunj. One redactor is shared by every part of one reconcile, so a path that forgets
to pass its secrets along still scrubs them: scrubbing is on by default, not opted into per
call. A reconcile starts from a :meth:`~Redactor.copy` of its cluster's redactor (which knows
the connection's credentials), so what one reconcile reads is neither kept for the life of a
warm instance nor scrubbed from another platform's messages.

A secret is found in every form :func:`shared.secretforms.forms` lists (JSON-escaped, quoted as
Go quotes it, base64, URL encoded). A form of at least :data:`ANYWHERE_LENGTH` characters is
replaced wherever it occurs. A shorter one would turn every occurrence of those letters into
``***`` (and show, by where the stars land, what it is), so it is replaced only where it stands
whole:

- a secret (a password, a token, a value read alone with ``targetPath``): as a word of its own,
  not inside another word;
- a value of a document of secrets (:meth:`Redactor.add_values`; such a document holds settings
  beside its secrets, ``2d``, ``info``, ``8080``): only where it stands as a value, inside
  quotes, after ``=`` or ``:``, or as a whole line.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from .secretforms import forms

REDACTED = "***"
# A single line of a multi-line secret shorter than this is too likely to be an ordinary word
# of the message itself ("}", "---"); a whole secret is scrubbed whatever its length.
MINIMUM_LINE_LENGTH = 4
# A form this long is scrubbed wherever it occurs, inside other words too.
ANYWHERE_LENGTH = 6

# Where a short value stands as a value: after a quote, "=", ":" (and one space), or a
# backslash-escaped quote; followed by a quote, a backslash (of an escaped quote), white space,
# a separator, a closing bracket, or a full stop that ends the sentence.
_VALUE_BEFORE = r"(?:(?<=[\"'`=:])|(?<=[=:] ))"
_VALUE_AFTER = r"(?=[\"'`\\\s,;&)}\]]|\.(?:\s|$)|$)"
# Or alone on its line (indented, as in a YAML block).
_LINE_BEFORE = r"(?P<indent>^[ \t]*)"
_LINE_AFTER = r"(?=[ \t]*$)"


def _alternatives(texts: Iterable[str]) -> str:
    # Longest first: at one position the longer text is replaced whole.
    return "|".join(re.escape(text) for text in sorted(texts, key=len, reverse=True))


def _short_pattern(words: set[str], values: set[str]) -> re.Pattern[str] | None:
    branches = []
    if words:
        branches.append(rf"(?<!\w)(?:{_alternatives(words)})(?!\w)")
    if values or words:
        either = _alternatives(words | values)
        branches.append(rf"{_VALUE_BEFORE}(?:{either}){_VALUE_AFTER}")
        branches.append(rf"{_LINE_BEFORE}(?:{either}){_LINE_AFTER}")
    return re.compile("|".join(branches), re.MULTILINE) if branches else None


def _replacement(match: re.Match[str]) -> str:
    return (match.group("indent") or "") + REDACTED


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._document_values: set[str] = set()
        self._anywhere: set[str] = set()
        self._words: set[str] = set()
        self._values: set[str] = set()
        # What __call__ reads: a snapshot replaced whole, so a call never sees half an add.
        self._compiled: tuple[tuple[str, ...], re.Pattern[str] | None] = ((), None)
        self._stale = False
        self._lock = threading.Lock()
        self.add(*secrets)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"

    def copy(self) -> Redactor:
        """A redactor that knows what this one knows, and learns on its own from now on."""
        other = Redactor()
        with self._lock:
            other._secrets = set(self._secrets)
            other._document_values = set(self._document_values)
            other._anywhere = set(self._anywhere)
            other._words = set(self._words)
            other._values = set(self._values)
            other._compiled, other._stale = self._compiled, self._stale
        return other

    def add(self, *secrets: str, lines: bool = True) -> None:
        """Remember secrets; a multi-line one is also remembered line by line (an error may
        quote a single line of it), unless ``lines`` is false: for a document whose lines are
        its keys and structure as much as its secrets, and whose values are added one by one
        (:meth:`add_values`)."""
        fresh: set[str] = set()
        for secret in secrets:
            fresh |= {whole for whole in (secret, secret.strip()) if whole}
            if lines:
                stripped = (line.strip() for line in secret.splitlines())
                fresh |= {line for line in stripped if len(line) >= MINIMUM_LINE_LENGTH}
        self._learn(fresh, short_as_words=True)

    def add_values(self, *values: str) -> None:
        """Remember the values of a document of secrets (its settings among them): a short one
        is scrubbed only where it stands as a value (quoted, after ``=`` or ``:``, or alone on
        a line), never as an ordinary word of a message."""
        fresh: set[str] = set()
        for value in values:
            fresh |= {whole for whole in (value, value.strip()) if whole}
            stripped = (line.strip() for line in value.splitlines())
            fresh |= {line for line in stripped if len(line) >= MINIMUM_LINE_LENGTH}
        self._learn(fresh, short_as_words=False)

    def _learn(self, fresh: set[str], *, short_as_words: bool) -> None:
        with self._lock:
            if short_as_words:
                fresh -= self._secrets
                self._secrets |= fresh
            else:
                fresh -= self._secrets | self._document_values
                self._document_values |= fresh
            if not fresh:
                return
            for secret in fresh:
                for form in forms(secret):
                    if len(form) >= ANYWHERE_LENGTH:
                        self._anywhere.add(form)
                    elif short_as_words:
                        self._words.add(form)
                    else:
                        self._values.add(form)
            self._stale = True

    def _snapshot(self) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
        if self._stale:
            with self._lock:
                if self._stale:
                    # Longest first, so a secret that contains another vanishes whole.
                    anywhere = tuple(sorted(self._anywhere, key=len, reverse=True))
                    self._compiled = (anywhere, _short_pattern(self._words, self._values))
                    self._stale = False
        return self._compiled

    def __call__(self, text: str) -> str:
        anywhere, short = self._snapshot()
        for form in anywhere:
            if form in text:
                text = text.replace(form, REDACTED)
        if short is not None:
            text = short.sub(_replacement, text)
        return text

    def __contains__(self, secret: str) -> bool:
        """Whether ``secret`` is known as a secret (values of a document are not listed)."""
        return secret in self._secrets


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced (for a one-off list)."""
    return Redactor(secrets)(text)

"""Secret values kept out of everything gunj says: errors, log lines, events and status.

A :class:`Redactor` collects the secret strings a reconcile comes to know (resolved
``valuesFrom`` content, repository passwords, cluster tokens) and replaces each of them wherever
text leaves gunj. One redactor is shared by every part of a reconcile, so a path that forgets to
pass its secrets along still scrubs them: scrubbing is on by default, not opted into per call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

REDACTED = "***"
# A single line of a multi-line secret shorter than this is too likely to be an ordinary word
# of the message itself ("}", "---"); a whole secret is scrubbed whatever its length.
MINIMUM_LINE_LENGTH = 4


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._ordered: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.add(*secrets)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"

    def add(self, *secrets: str, lines: bool = True) -> None:
        """Remember secrets; a multi-line one is also remembered line by line (an error may
        quote a single line of it), unless ``lines`` is false: for a document whose lines are
        its keys and structure as much as its secrets, and whose values are added one by one."""
        fresh: set[str] = set()
        for secret in secrets:
            fresh |= {whole for whole in (secret, secret.strip()) if whole}
            if lines:
                stripped = (line.strip() for line in secret.splitlines())
                fresh |= {line for line in stripped if len(line) >= MINIMUM_LINE_LENGTH}
        if not fresh - self._secrets:
            return
        with self._lock:
            self._secrets |= fresh
            # Longest first, so a secret that contains another vanishes whole.
            self._ordered = tuple(sorted(self._secrets, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __contains__(self, secret: str) -> bool:
        return secret in self._secrets


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced (for a one-off list)."""
    return Redactor(secrets)(text)

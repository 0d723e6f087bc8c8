"""Repository URLs in one normal form, so that the URL checked against the allow-list is the
URL fetched.

A URL from a spec, a mirror setting, an index or a redirect is normalised before anything looks
at it: the scheme and host in lower case, the default port dropped, percent-escapes of
unreserved characters decoded (``%2e`` is ``.``), empty segments (``//``) and ``.`` removed,
``..`` resolved, and no trailing slash. What cannot be normalised safely is refused: user
information in the URL, a backslash, an escaped slash or NUL, control characters or spaces, a
host that is not ASCII, and a path whose ``..`` climbs above the root. A prefix matches whole
path segments: ``https://host/charts`` covers ``https://host/charts/x.tgz``, not
``https://host/charts-other``.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

SCHEMES = frozenset({"https", "http", "oci"})
DEFAULT_PORTS = {"https": 443, "http": 80, "oci": 443}
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_SHOWN = 160


class UnsafeUrl(ValueError):
    """A URL gunj will not fetch; the message says why, without the URL."""


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port: where credentials may go."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def _decode_unreserved(match: re.Match[str]) -> str:
    character = chr(int(match.group(1), 16))
    if character in _UNRESERVED:
        return character
    if character in "/\\\0":
        raise UnsafeUrl("its path escapes a slash, a backslash or NUL")
    return "%" + match.group(1).upper()


def _path(raw: str) -> str:
    decoded = _ESCAPE.sub(_decode_unreserved, raw)
    kept: list[str] = []
    for segment in decoded.split("/"):
        if segment in {"", "."}:
            continue
        if segment == "..":
            if not kept:
                raise UnsafeUrl("its path climbs above the root with '..'")
            kept.pop()
            continue
        kept.append(segment)
    return "".join(f"/{segment}" for segment in kept)


def _host(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if not host:
        raise UnsafeUrl("it names no host")
    if not host.isascii():
        raise UnsafeUrl("its host is not ASCII; write it in punycode")
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            raise UnsafeUrl("its host is not a valid IPv6 address") from None
    host = host.rstrip(".")
    if not _HOST.fullmatch(host):
        raise UnsafeUrl("its host is not a valid host name")
    return host


def split(url: str) -> tuple[Origin, str, str]:
    """The origin, normalised path and query of ``url``, or :class:`UnsafeUrl`."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        raise UnsafeUrl("it contains spaces, control characters or backslashes")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl(f"its scheme is {scheme or 'missing'}, not https or oci")
    if "@" in parts.netloc:
        raise UnsafeUrl("it carries user information; credentials do not belong in a URL")
    host = _host(parts)
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise UnsafeUrl("its port is not a number from 1 to 65535") from None
    return Origin(scheme, host, port), _path(parts.path), parts.query


def normalise(url: str) -> str:
    """``url`` in its normal form (the fragment dropped, the query kept as it is)."""
    origin, path, query = split(url)
    return urlunsplit((origin.scheme, str(origin).partition("://")[2], path, query, ""))


def origin_of(url: str) -> Origin:
    return split(url)[0]


def under(url: str, prefix: str) -> bool:
    """Whether normalised ``url`` is ``prefix`` or below it, by whole path segments."""
    origin, path, _ = split(url)
    base, base_path, _ = split(prefix)
    return origin == base and (path == base_path or path.startswith(base_path + "/"))


def resolve(base: str, reference: str) -> str:
    """``reference`` (relative, absolute or scheme-relative) resolved against ``base``."""
    return urljoin(base, reference)


def display(url: str) -> str:
    """``url`` for a message, as it was given (dot segments and all), without user information,
    query or fragment, printable and not too long."""
    head, separator, rest = url.partition("?")[0].partition("#")[0].partition("://")
    if separator:
        rest = rest.rpartition("@")[2]  # user information, wherever a slash put its end
    shown = head + separator + rest
    shown = "".join(c if c.isprintable() and not c.isspace() else "?" for c in shown)
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 1] + "…"

"""Typed Helm errors, so a caller can tell a transient failure (retry later) from a permanent one
(report, do not retry).

Helm reports everything as exit code 1 and a message on stderr; the message is the only signal.
The patterns below are taken from the messages Helm 3.17 and Helm 4 print, checked most specific
first. A message nothing matches is a plain :class:`HelmError`, treated as permanent: retrying an
unknown failure forever is worse than reporting it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import GunjError


class HelmError(GunjError):
    """A Helm command failed."""

    def __init__(self, message: str, *, command: Sequence[str] = (), stderr: str = "") -> None:
        super().__init__(message)
        self.command = tuple(command)
        self.stderr = stderr


class ReleaseNotFound(HelmError):
    """The release (or the asked-for revision) does not exist."""


class ReleaseLocked(HelmError):
    """Another install, upgrade or rollback of the release is in progress (or was left pending)."""

    transient = True


class HelmTimeout(HelmError):
    """Resources or hooks did not become ready in time."""

    transient = True


class TestFailed(HelmError):
    """A test pod of the release failed (``helm test``): an outcome of the release itself."""

    __test__ = False  # not a pytest test class, despite its name


class ChartNotFound(HelmError):
    """The chart, or the asked-for version of it, is not in the repository."""


class RepositoryUnavailable(HelmError):
    """The chart repository or registry could not be reached or answered with a server error."""

    transient = True


class RenderError(HelmError):
    """The chart did not render with the given values (template error, schema violation)."""


class ResourceRejected(HelmError):
    """The API server refused an object of the release (invalid field, admission denial)."""


class RepositoryNotAllowed(HelmError):
    """The repository is not on the allow-list of this installation."""


class RepositoryAuthFailed(HelmError):
    """The repository refused the credentials (or asked for some and none were given)."""


class InvalidIndex(HelmError):
    """The repository answered, but not with a chart index Helm could read."""


class ClusterUnreachable(HelmError):
    """The Kubernetes API server could not be reached."""

    transient = True


_PATTERNS: tuple[tuple[type[HelmError], re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (ReleaseLocked, r"another operation \(install/upgrade/rollback\) is in progress"),
        (TestFailed, r"\bpod \S+ failed\b"),
        (
            ClusterUnreachable,
            r"kubernetes cluster unreachable|connect: connection refused"
            r"|no such host|i/o timeout|tls handshake timeout"
            r"|the server is currently unable to handle the request",
        ),
        (
            RepositoryUnavailable,
            r"(failed to fetch|looks like .* is not a valid chart repository"
            r"|cannot be reached).*\b5\d\d\b|\b5\d\d (internal server error"
            r"|bad gateway|service unavailable|gateway timeout)",
        ),
        (
            ReleaseNotFound,
            r"release: not found|release not found|has no deployed releases"
            r"|release: .* not found|revision .* not found",
        ),
        (
            ChartNotFound,
            r"chart .* (version .* )?not found|failed to fetch .*: 404"
            r"|: not found$|manifest unknown|repo .* not found"
            r"|no chart version found|no chart name found",
        ),
        (
            HelmTimeout,
            r"context deadline exceeded|timed out waiting for the condition"
            r"|timeout waiting for|resource not ready.*timeout",
        ),
        (
            RenderError,
            r"parse error|execution error|values don't meet the specifications"
            r"|error converting yaml to json|yaml: line \d+|template: "
            r"|unable to build kubernetes objects from release manifest",
        ),
        (
            ResourceRejected,
            r" is invalid: | is forbidden: |admission webhook .* denied"
            r"|failed to create resource|server-side apply failed",
        ),
    )
)


def classify(stderr: str, command: Sequence[str] = ()) -> HelmError:
    """Map Helm's error output to the most specific error type."""
    message = _last_error_line(stderr)
    for kind, pattern in _PATTERNS:
        if pattern.search(stderr):
            return kind(message, command=command, stderr=stderr)
    return HelmError(message, command=command, stderr=stderr)


def _last_error_line(stderr: str) -> str:
    """Helm's final error, with the detail lines that follow it ("* Service x is invalid")."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    starts = [index for index, line in enumerate(lines) if line.startswith("Error:")]
    if starts:
        lines = lines[starts[-1] :]
        lines[0] = lines[0].removeprefix("Error:").strip()
        return " ".join(lines)
    return lines[-1] if lines else "helm failed without a message"

"""Typed Helm errors, so a caller can tell a transient failure (retry later) from a permanent one
(report, do not retry).

Helm reports everything as exit code 1 and a message on stderr; the message is the only signal.
The rules below are taken from the messages Helm 3.17 and Helm 4 print on a real cluster (the
cluster tests in ``tests/cluster/test_helm_errors.py`` produce each of them), checked most
specific first. A message nothing matches is a plain :class:`HelmError`, treated as permanent:
retrying an unknown failure forever is worse than reporting it.

A failure with several causes (Helm 3's "2 errors occurred: * ... * ...", Helm 4's one line per
object) is transient only if none of its causes is a known permanent one: a quota that frees up
does not fix an object the API server rejects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from ..errors import GunjError


class HelmError(GunjError):
    """A Helm command failed."""

    def __init__(self, message: str, *, command: Sequence[str] = (), stderr: str = "") -> None:
        super().__init__(message)
        self.command = tuple(command)
        self.stderr = stderr

    @classmethod
    def from_output(cls, stderr: str, command: Sequence[str] = ()) -> Self:
        """The error for Helm's output, its message Helm's final error."""
        return cls(_last_error_line(stderr), command=command, stderr=stderr)


class ReleaseNotFound(HelmError):
    """The release (or the asked-for revision) does not exist."""


class ReleaseLocked(HelmError):
    """Another install, upgrade or rollback of the release is in progress (or was left pending)."""

    transient = True


class HelmTimeout(HelmError):
    """Resources or hooks did not become ready in time."""

    transient = True


class HelmBlocked(HelmError):
    """Helm was stopped while it waited, because the cluster said the release cannot come up
    without a person (a pod no node will take, a storage class that does not exist): waiting out
    the deadline would only repeat it. Permanent; the message is the cluster's reason."""

    def __init__(
        self, message: str, *, command: Sequence[str] = (), stderr: str = "", reason: str = ""
    ) -> None:
        super().__init__(message, command=command, stderr=stderr)
        self.reason = reason


class TestFailed(HelmError):
    """A test pod of the release failed (``helm test``): an outcome of the release itself."""

    __test__ = False  # not a pytest test class, despite its name


class HookFailed(HelmError):
    """A hook of the release (pre-install, post-upgrade, ...) ran and failed: the chart's own
    verdict on the change, as a failed test is after it."""


class ChartNotFound(HelmError):
    """The chart, or the asked-for version of it, is not in the repository."""


class RepositoryUnavailable(HelmError):
    """The chart repository or registry could not be reached or answered with a server error."""

    transient = True


class RenderError(HelmError):
    """The chart did not render with the given values (template error, schema violation)."""


class ResourceRejected(HelmError):
    """The API server refused an object of the release (invalid field, admission denial)."""


class NamespaceTerminating(HelmError):
    """The release's namespace is being deleted, so nothing new may be created in it. Once it is
    gone it can be created again: worth retrying."""

    transient = True


class QuotaExceeded(HelmError):
    """A ResourceQuota of the namespace refused an object. Usage may drop or the quota grow, so
    a retry may succeed; ``quotas`` names the quotas, the message what each refused."""

    transient = True

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        stderr: str = "",
        quotas: Sequence[str] = (),
    ) -> None:
        super().__init__(message, command=command, stderr=stderr)
        self.quotas = tuple(quotas)

    @classmethod
    def from_output(cls, stderr: str, command: Sequence[str] = ()) -> Self:
        text = _error_text(stderr)
        refusals = list(dict.fromkeys(match.groups() for match in _QUOTA.finditer(text)))
        if not refusals:
            return super().from_output(stderr, command)
        message = _operation_prefix(text) + "; ".join(
            f"quota {quota} exceeded by {what}: requested {requested}, used {used}, "
            f"limited to {limited}"
            for what, quota, requested, used, limited in refusals
        )
        quotas = sorted({quota for _, quota, *_ in refusals})
        return cls(message, command=command, stderr=stderr, quotas=quotas)


@dataclass(frozen=True)
class FieldOwner:
    """A field the release wanted to change and the field manager that owns it."""

    resource: str  # "ConfigMap ns/name"
    field: str  # ".data.prometheus.yml"
    manager: str
    subresource: str = ""

    def __str__(self) -> str:
        owner = f'"{self.manager}"'
        if self.subresource:
            owner += f" (subresource {self.subresource})"
        return f"{self.field} of {self.resource} is managed by {owner}"


class FieldConflict(HelmError):
    """Server-side apply (Helm 4) refused to change fields that another field manager owns
    (``kubectl apply --server-side``, a controller, an HPA scaling the workload). Retrying gives
    the same conflict until the other manager lets go or the change takes the fields over;
    ``conflicts`` lists each field and its owner."""

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        stderr: str = "",
        conflicts: Sequence[FieldOwner] = (),
    ) -> None:
        super().__init__(message, command=command, stderr=stderr)
        self.conflicts = tuple(conflicts)

    @classmethod
    def from_output(cls, stderr: str, command: Sequence[str] = ()) -> Self:
        text = _error_text(stderr)
        conflicts = _field_owners(text)
        if not conflicts:
            return super().from_output(stderr, command)
        message = (
            _operation_prefix(text)
            + "server-side apply conflict: "
            + "; ".join(str(conflict) for conflict in conflicts)
        )
        return cls(message, command=command, stderr=stderr, conflicts=conflicts)


class RepositoryNotAllowed(HelmError):
    """The repository, or a URL it leads to (a chart, a redirect, a token service), is not one
    gunj may fetch: not on the allow-list, not https, or on a private address."""


class RepositoryLimitExceeded(HelmError):
    """The repository answered with more than gunj reads from one repository (an index's size
    or entries, an archive's size, a registry's tag pages). Retrying gets the same answer."""


class RepositoryTimedOut(RepositoryUnavailable):
    """One operation on the repository took longer than its limit (a slow or trickling server).
    Transient: a later attempt may find it faster."""


class RepositoryAuthFailed(HelmError):
    """The repository refused the credentials (or asked for some and none were given)."""


class InvalidIndex(HelmError):
    """The repository answered, but not with a chart index Helm could read."""


class ClusterUnreachable(HelmError):
    """The Kubernetes API server could not be reached."""

    transient = True


# A request that never got an answer. Which end was unreachable is told by what surrounds it.
_NETWORK = (
    r"connect: connection refused|connection reset by peer|no such host|i/o timeout"
    r"|tls handshake timeout|network is unreachable|no route to host|server misbehaving"
)
# What only a request to a chart source carries: Helm's repository wording, the OCI client's
# (ORAS in Helm 3, oras-go v2 in Helm 4) and the URLs of an index, an archive, its provenance
# file or the OCI distribution API (whose paths start with /v2/; an API server's are /api,
# /apis, /version).
_CHART_SOURCE = (
    r"is not a valid chart repository|failed to do request|failed to perform \"\w+\" on source"
    r"|/index\.yaml\b|\.tgz\b|\.prov\b|\bhttps?://[^/\s\"]+/v2/"
)
_QUOTA = re.compile(
    r"(\S+ \"[^\"]+\") is forbidden: exceeded quota: ([^,\s]+), requested: (\S+?), "
    r"used: (\S+?), limited: ([^\s,]+)"
)
# Helm 4: `conflict occurred while applying object <ns>/<name> <group/version>, Kind=<Kind>:`
_CONFLICTED_OBJECT = re.compile(
    r"conflict occurred while applying object (?P<name>\S*) \S*, Kind=(?P<kind>\w+):"
)
# The API server's conflict message: `conflict with "m" [with subresource "s"] [using v1 [at
# time]]: <field>` for one conflict, `conflicts with "m"...:` then `- <field>` lines for several.
_CONFLICT_OWNER = re.compile(
    r"conflicts? with \"(?P<manager>[^\"]+)\"(?P<detail>[^\n]*)", re.IGNORECASE
)
_SUBRESOURCE = re.compile(r"with subresource \"([^\"]+)\"")
# Helm's commands (both majors), to find which one ran.
_HELM_COMMAND_NAMES = (
    "install upgrade uninstall rollback test status history get list template show pull push "
    "repo registry dependency search create lint package verify plugin env version completion"
)
_HELM_COMMANDS = frozenset(_HELM_COMMAND_NAMES.split())


@dataclass(frozen=True)
class _Rule:
    kind: type[HelmError]
    pattern: re.Pattern[str]
    # A second pattern that must match as well.
    also: re.Pattern[str] | None = None
    # Only for these Helm commands (None: any).
    verbs: frozenset[str] | None = None

    def matches(self, text: str, verb: str | None) -> bool:
        if self.verbs is not None and verb not in self.verbs:
            return False
        return bool(self.pattern.search(text)) and (
            self.also is None or bool(self.also.search(text))
        )


def _rule(
    kind: type[HelmError],
    pattern: str,
    *,
    also: str | None = None,
    verbs: frozenset[str] | None = None,
) -> _Rule:
    return _Rule(
        kind,
        re.compile(pattern, re.IGNORECASE),
        re.compile(also, re.IGNORECASE) if also else None,
        verbs,
    )


_RULES: tuple[_Rule, ...] = (
    _rule(ReleaseLocked, r"another operation \(install/upgrade/rollback\) is in progress"),
    # Helm 3: "1 error occurred: * pod X failed" (a Job: "job X failed: BackoffLimitExceeded");
    # Helm 4: "resource Pod/ns/X not ready. status: Failed, message: pod X failed" (a Job:
    # "resource Job/ns/X not ready. status: Failed, ..."). A hook of an install or upgrade fails
    # with the same words: only `helm test` makes it a test outcome.
    _rule(
        TestFailed,
        r"\b(pod|job) \S+ failed\b|resource (Pod|Job)/\S+ not ready\. status: Failed",
        verbs=frozenset({"test"}),
    ),
    # Helm 3 and 4 say this whenever the API server does not answer its first request.
    _rule(ClusterUnreachable, r"kubernetes cluster unreachable"),
    _rule(RepositoryUnavailable, _NETWORK, also=_CHART_SOURCE),
    # Any other request that got no answer went to the API server (Helm talks to nothing else
    # mid-operation), or it is too vague to tell.
    _rule(
        ClusterUnreachable,
        _NETWORK + r"|the server is currently unable to handle the request",
    ),
    _rule(
        RepositoryUnavailable,
        r"(failed to fetch|looks like .* is not a valid chart repository"
        r"|cannot be reached).*\b5\d\d\b|\b5\d\d (internal server error"
        r"|bad gateway|service unavailable|gateway timeout)",
    ),
    _rule(
        ReleaseNotFound,
        r"release: not found|release not found|has no deployed releases"
        r"|release: .* not found|revision .* not found",
    ),
    _rule(
        ChartNotFound,
        r"chart .* (version .* )?not found|failed to fetch .*: 404"
        r"|: not found$|manifest unknown|repo .* not found"
        r"|no chart version found|no chart name found",
    ),
    # The namespace lifecycle admission plugin's refusal (a "forbidden" that is not permanent).
    _rule(NamespaceTerminating, r"because it is being terminated"),
    # The ResourceQuota admission plugin's; "failed quota: q: must specify ..." (a pod without
    # the requests a quota demands) is the chart's to fix, and stays a rejection.
    _rule(QuotaExceeded, r"exceeded quota: "),
    _rule(FieldConflict, r"conflict occurred while applying object|apply failed with \d+ conflict"),
    _rule(
        HelmTimeout,
        r"context deadline exceeded|timed out waiting for the condition"
        r"|timeout waiting for|resource not ready.*timeout"
        # Helm 4's watcher on a resource still in progress when the wait ran out (a hook pod
        # that never completed included: it did not fail, it took too long).
        r"|not ready\. status: InProgress",
    ),
    _rule(
        RenderError,
        r"parse error|execution error|values don't meet the specifications"
        r"|error converting yaml to json|yaml: line \d+|template: "
        r"|unable to build kubernetes objects from release manifest",
    ),
    _rule(
        ResourceRejected,
        r" is invalid: | is forbidden: |admission webhook .* denied"
        r"|failed to create resource|server-side apply failed",
    ),
    _rule(
        HookFailed,
        r"\bfailed (pre|post)-(install|upgrade|rollback|delete)\b|\bpod \S+ failed\b",
    ),
)


def classify(stderr: str, command: Sequence[str] = ()) -> HelmError:
    """Map Helm's error output to the most specific error type."""
    verb = _verb(command)
    kind = _match(stderr, verb)
    if kind is not None and kind.transient:
        for cause in _causes(stderr):
            other = _match(cause, verb)
            if other is not None and not other.transient:
                kind = other
                break
    return (kind or HelmError).from_output(stderr, command)


def _match(text: str, verb: str | None) -> type[HelmError] | None:
    for rule in _RULES:
        if rule.matches(text, verb):
            return rule.kind
    return None


def _verb(command: Sequence[str]) -> str | None:
    """The Helm command (``test`` in ``helm test x --namespace y``), None if not given. The
    first word that names one: a launcher may come before Helm's path (``setpriv ... --``), and
    a release may be called ``test`` (``helm install test ./chart``)."""
    return next((arg for arg in command if arg in _HELM_COMMANDS), None)


def _error_text(stderr: str) -> str:
    """Helm's final error as printed, from its ``Error:`` line on (without the prefix)."""
    text = stderr.strip()
    start = text.rfind("Error:")
    if start >= 0 and (start == 0 or text[start - 1] == "\n"):
        return text[start + len("Error:") :].strip()
    return text


def _causes(stderr: str) -> list[str]:
    """The separate failures one error lists, if it lists more than one: Helm 3's "* " items
    (under a "2 errors occurred:" header that is no cause itself), else Helm 4's lines and
    " && "-joined parts (without the "- <field>" lines of a conflict)."""
    lines = [line.strip() for line in _error_text(stderr).splitlines()]
    causes = [line.removeprefix("* ") for line in lines if line.startswith("* ")]
    if not causes:
        parts = [part.strip() for line in lines for part in line.split(" && ")]
        causes = [part for part in parts if part and not part.startswith("- ")]
    return causes if len(causes) > 1 else []


def _operation_prefix(text: str) -> str:
    """What Helm says failed ("UPGRADE FAILED: failed pre-upgrade: ", "Hook test x.yaml failed:
    "), to keep in front of a message of ours."""
    match = re.match(
        r"(?:[A-Z][A-Z ]* FAILED: )?(?:failed (?:pre|post)-\w+: )?(?:warning: )?"
        r"(?:Hook \S+ \S+ failed: )?",
        text,
    )
    return match.group(0).replace("warning: ", "") if match else ""


def _field_owners(text: str) -> list[FieldOwner]:
    owners: list[FieldOwner] = []
    objects = list(_CONFLICTED_OBJECT.finditer(text))
    for index, found in enumerate(objects):
        end = objects[index + 1].start() if index + 1 < len(objects) else len(text)
        resource = f"{found['kind']} {found['name'].lstrip('/')}"
        owners += _owners_in(text[found.end() : end], resource)
    if not objects:
        owners = _owners_in(text, "an object of the release")
    return owners


def _owners_in(text: str, resource: str) -> list[FieldOwner]:
    owners: list[FieldOwner] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        for match in _CONFLICT_OWNER.finditer(line):
            subresource = _SUBRESOURCE.search(match["detail"])
            fields = _fields_after(match["detail"], lines[number + 1 :])
            owners += [
                FieldOwner(
                    resource,
                    field,
                    match["manager"],
                    subresource.group(1) if subresource else "",
                )
                for field in fields
            ]
    return owners


def _fields_after(detail: str, following: list[str]) -> list[str]:
    # One conflict: the field follows the first ": " (a time in "using v1 at 2025-01-01T00:00:00Z"
    # has colons, never ": "). Several: one "- <field>" line each.
    if ": " in detail:
        return [detail.partition(": ")[2].partition(" && ")[0].strip()]
    fields: list[str] = []
    for line in following:
        if not line.startswith("- "):
            break
        fields.append(line[2:].partition(" && ")[0].strip())
    return fields


def _last_error_line(stderr: str) -> str:
    """Helm's final error, with the detail lines that follow it ("* Service x is invalid")."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    starts = [index for index, line in enumerate(lines) if line.startswith("Error:")]
    if starts:
        lines = lines[starts[-1] :]
        lines[0] = lines[0].removeprefix("Error:").strip()
        return " ".join(lines)
    return lines[-1] if lines else "helm failed without a message"

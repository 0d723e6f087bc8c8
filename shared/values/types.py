"""Constrained scalar types of the platform spec.

Every check raises a message of our own that says what is expected, and never repeats the value
it was given: a misplaced secret must not come back in an error.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlparse

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from ..versions import InvalidVersion, VersionConstraint, normalize_version
from .quantity import QUANTITY, canonical_number


def _matching(pattern: str, error_type: str, message: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError(error_type, message)
        return value

    return AfterValidator(check)


def _quantity_number(value: object) -> object:
    """A number where a quantity goes, as the string Kubernetes prints for it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        canonical = canonical_number(value)
        if canonical is None:
            raise PydanticCustomError(
                "quantity", "not a Kubernetes quantity; a quantity is not negative"
            )
        return canonical
    return value


# Kubernetes resource quantity: 500m, 2, 1.5Gi, 10G, 1e3; a number (1, 0.5) as Kubernetes
# prints it (1, 500m).
Quantity = Annotated[
    str,
    BeforeValidator(_quantity_number, json_schema_input_type=str | int | float),
    _matching(
        QUANTITY.pattern,
        "quantity",
        "not a Kubernetes quantity; use a number with an optional unit, e.g. 500m, 2, 10Gi",
    ),
]

# Prometheus/Loki/Tempo durations: 15d, 12h30m, 744h, 90s.
Duration = Annotated[
    str,
    _matching(
        r"(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?(?<=[a-z])",
        "duration",
        "not a duration; use numbers with units y, w, d, h, m, s, ms, e.g. 15d, 12h, 30m",
    ),
]

# Prometheus retention size: 512MB, 50GB.
ByteSize = Annotated[
    str,
    _matching(
        r"\d+(B|KB|MB|GB|TB|PB|EB)",
        "byte_size",
        "not a size; use a whole number and B, KB, MB, GB, TB, PB or EB, e.g. 50GB",
    ),
]

_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def _go_duration(value: str) -> str:
    if not value or _GO_DURATION_PART.sub("", value) != "" or go_duration_seconds(value) <= 0:
        raise PydanticCustomError(
            "timeout", "not a positive timeout; use numbers with units h, m, s, e.g. 5m, 90s, 1h30m"
        )
    return value


def go_duration_seconds(value: str) -> float:
    return sum(float(number) * _GO_UNITS[unit] for number, unit in _GO_DURATION_PART.findall(value))


def to_timedelta(value: str) -> timedelta:
    return timedelta(seconds=go_duration_seconds(value))


# Go durations, as Helm's --timeout takes them: 5m, 300s, 1h30m.
Timeout = Annotated[str, AfterValidator(_go_duration)]


def _app_version(value: str) -> str:
    try:
        return normalize_version(value)
    except InvalidVersion:
        raise PydanticCustomError(
            "version", "not a version; use the app version, e.g. v3.14.0 or 3.14.0"
        ) from None


# An app version; "v3.14.0" and "3.14.0" alike, kept normalized.
AppVersion = Annotated[str, AfterValidator(_app_version)]


def _constraint(value: str) -> str:
    try:
        VersionConstraint.parse(value)
    except InvalidVersion:
        raise PydanticCustomError(
            "version_constraint",
            "not a chart version or range; use e.g. 29.27.0, ~29.27, >=12 <13, ^2.0",
        ) from None
    return value.strip()


ChartVersion = Annotated[str, AfterValidator(_constraint)]

# RFC 1123 label: Kubernetes names of namespaces, Services, release name parts.
DNSLabel = Annotated[
    str,
    _matching(
        r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
        "dns_label",
        "not a valid name; use at most 63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit",
    ),
]

# RFC 1123 subdomain: names of Secrets, ConfigMaps, storage classes.
ObjectName = Annotated[
    str,
    _matching(
        r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
        "object_name",
        "not a valid Kubernetes object name; use lowercase letters, digits, '-' and '.'",
    ),
]

# A key of a Secret or ConfigMap.
DataKey = Annotated[
    str,
    _matching(
        r"[-._a-zA-Z0-9]{1,253}",
        "data_key",
        "not a valid Secret or ConfigMap key; use letters, digits, '-', '_' and '.'",
    ),
]

_LABEL_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
_LABEL_KEY = re.compile(
    rf"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_LABEL_NAME}"
)
_LABEL_VALUE = re.compile(rf"{_LABEL_NAME}?")


def _label_map(value: dict[str, str]) -> dict[str, str]:
    for key, label in value.items():
        if not _LABEL_KEY.fullmatch(key):
            raise PydanticCustomError(
                "label_key", "a key is not a valid label key (name or prefix/name, 63 characters)"
            )
        if not _LABEL_VALUE.fullmatch(label):
            raise PydanticCustomError(
                "label_value", "a value is not a valid label value (63 characters, alphanumeric)"
            )
    return value


# Node selectors: Kubernetes labels.
LabelMap = Annotated[dict[str, str], AfterValidator(_label_map)]

# Metric labels (Prometheus external labels): names like [a-zA-Z_][a-zA-Z0-9_]*.
_METRIC_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _metric_labels(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if not _METRIC_LABEL.fullmatch(key) or key.startswith("__"):
            raise PydanticCustomError(
                "metric_label",
                "a label name is not valid for Prometheus; use letters, digits and '_', "
                "not starting with a digit or '__'",
            )
    return value


MetricLabels = Annotated[dict[str, str], AfterValidator(_metric_labels)]

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _repository(value: str) -> str:
    parsed = urlparse(value)
    plain_local = parsed.scheme == "http" and parsed.hostname in _LOCAL_HOSTS
    if (parsed.scheme not in {"https", "oci"} and not plain_local) or not parsed.netloc:
        raise PydanticCustomError(
            "repository",
            "not a chart repository URL; use https://host/path or oci://host/path "
            "(plain http only for localhost)",
        )
    if parsed.username or parsed.password:
        raise PydanticCustomError(
            "repository_credentials",
            "credentials do not belong in the URL; use chart.credentialsSecretRef",
        )
    return value.rstrip("/")


RepositoryURL = Annotated[str, AfterValidator(_repository)]


def http_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise PydanticCustomError("url", "not an http(s) URL")
    if parsed.username or parsed.password:
        raise PydanticCustomError(
            "url_credentials", "credentials do not belong in the URL; use a secret reference"
        )
    if "{{" in value:
        raise PydanticCustomError("url_template", "a URL cannot hold template delimiters '{{'")
    return value


HttpURL = Annotated[str, AfterValidator(http_url)]

_HOST = r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*"
_HOST_PORT = re.compile(rf"({_HOST}|\[[0-9A-Fa-f:.]+\])(:\d{{1,5}})?")


def host_port(value: str) -> str:
    """``host`` or ``host:port``, as SQL clients take their server (no scheme, no path)."""
    if not _HOST_PORT.fullmatch(value):
        raise PydanticCustomError(
            "host_port", "not host:port; use a host name and port, e.g. db.example.com:5432"
        )
    return value


HostPort = Annotated[str, AfterValidator(host_port)]

# An object store endpoint: host[:port], or an http(s) URL.
Endpoint = Annotated[
    str,
    _matching(
        rf"(https?://)?{_HOST}(:\d{{1,5}})?/?",
        "endpoint",
        "not an endpoint; use host, host:port or http(s)://host[:port], e.g. s3.example.com",
    ),
]

# Bucket and container names, as S3, GCS and Azure accept them.
BucketName = Annotated[
    str,
    _matching(
        r"[a-z0-9]([-a-z0-9._]{0,220}[a-z0-9])?",
        "bucket",
        "not a bucket name; use lowercase letters, digits, '-', '_' and '.'",
    ),
]

# Cloud regions: eu-west-1, europe-west4, westeurope.
Region = Annotated[
    str,
    _matching(r"[a-z0-9][-a-z0-9]{0,62}", "region", "not a region; e.g. eu-west-1"),
]

# A Prometheus label name (external labels, relabel targets).
MetricLabelName = Annotated[
    str,
    _matching(
        r"[a-zA-Z_][a-zA-Z0-9_]*",
        "metric_label",
        "not a valid label name; use letters, digits and '_', not starting with a digit",
    ),
]


def _go_duration_any(value: str) -> str:
    if value == "0" or (value and _GO_DURATION_PART.sub("", value) == ""):
        return value
    raise PydanticCustomError(
        "go_duration", "not a duration; use numbers with units h, m, s, ms, e.g. 30s, 1h30m"
    )


# Go durations as Tempo reads them (no days): 30s, 336h, 1h30m, 0.
GoDuration = Annotated[str, AfterValidator(_go_duration_any)]


def _whole_bytes(value: object) -> object:
    """A whole number of bytes, as Loki reads one (as its digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


# Sizes as Loki reads them: 256KB, 3MB, 1MiB or a number of bytes (written as a number too).
LokiByteSize = Annotated[
    str,
    BeforeValidator(_whole_bytes, json_schema_input_type=str | int),
    _matching(
        r"\d+(\.\d+)?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?",
        "byte_size",
        "not a size; use a number and B, KB, MB, GB, KiB, MiB or GiB, e.g. 3MB",
    ),
]

_GCP_SECRET = re.compile(
    r"gcpsm://projects/[a-z0-9-]{4,30}/secrets/[A-Za-z0-9_-]{1,255}/versions/(latest|[1-9]\d*)"
)


def _gcp_secret(value: str) -> str:
    if not _GCP_SECRET.fullmatch(value):
        raise PydanticCustomError(
            "gcp_secret",
            "not a Secret Manager reference; use gcpsm://projects/P/secrets/S/versions/V "
            "(V a number or latest)",
        )
    return value


GoogleSecretURI = Annotated[str, AfterValidator(_gcp_secret)]

# A path into Helm values: dot-separated keys, "\." for a literal dot, [n] for a list index.
_VALUES_PATH = re.compile(r"(?:[^.\[\]\\]|\\.)+(?:\[\d+\])*(?:\.(?:[^.\[\]\\]|\\.)+(?:\[\d+\])*)*")


def _values_path(value: str) -> str:
    if not _VALUES_PATH.fullmatch(value):
        raise PydanticCustomError(
            "values_path",
            "not a values path; use dot-separated keys like server.remoteWrite[0].url",
        )
    return value


ValuesPath = Annotated[str, AfterValidator(_values_path)]

# A JSON pointer (RFC 6901) into a Kubernetes object: "/spec/replicas", "/data/key~1with~0slash".
_JSON_POINTER = re.compile(r"(?:/(?:[^/~]|~[01])*)+")


def _json_pointer(value: str) -> str:
    if len(value) > 512 or not _JSON_POINTER.fullmatch(value):
        raise PydanticCustomError(
            "json_pointer",
            "not a JSON pointer; use /-separated keys like /spec/replicas (~1 for a / in a key, "
            "~0 for a ~)",
        )
    return value


JsonPointer = Annotated[str, AfterValidator(_json_pointer)]

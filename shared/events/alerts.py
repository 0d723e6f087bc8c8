"""Health alerts as the rollback function receives them, read into one shape.

Two payloads arrive (on ``platform-alerts``, or Alertmanager's own webhook over HTTP):

- a Cloud Monitoring incident notification (schema version 1.2): ``{"incident": {"incident_id",
  "state": "open"|"closed", "started_at" (Unix seconds), "policy_name", "condition_name",
  "resource": {"type", "labels"}, "metric": {"type", "labels"}, "policy_user_labels"},
  "version": "1.2"}``: one alert, keyed by its incident id;
- an Alertmanager webhook (version 4): ``{"status", "alerts": [{"status", "labels",
  "annotations", "startsAt", "fingerprint"}], "commonLabels", ...}``: a group whose alerts are
  each judged on their own, keyed by fingerprint and start time.

Labels of every place a payload carries them are merged (Cloud Monitoring: resource labels,
then metric labels, then the policy's user labels, the later winning). Anything that is not one
of these is :class:`InvalidAlert`: acknowledged with a clear reason, never retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ..documents import KIB, MIB, DocumentError, DocumentLimits, load_document
from ..timestamps import parse_time

Source = Literal["alertmanager", "cloud-monitoring"]
MAX_ALERTS = 500
MAX_LABELS = 200
ALERT_DOCUMENT = DocumentLimits(
    max_bytes=MIB,
    max_size=MIB,
    max_nodes=50_000,
    max_depth=32,
    max_string=64 * KIB,
    max_number=40,
)
"""How a payload is read (:mod:`shared.documents`, JSON only): an Alertmanager group of
:data:`MAX_ALERTS` alerts with their labels and annotations fits well within it."""


class InvalidAlert(ValueError):
    """Not an alert payload gunj reads."""

    transient = False


@dataclass(frozen=True)
class Alert:
    source: Source
    key: str
    """What makes two deliveries the same alert: incident id, or fingerprint and start time."""
    firing: bool
    name: str
    started_at: datetime | None
    labels: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""

    def describe(self) -> str:
        kind = "incident" if self.source == "cloud-monitoring" else "alert"
        return f"{kind} {self.name or self.key}"


def _labels(*sources: Any) -> dict[str, str]:
    merged: dict[str, str] = {}
    for source in sources:
        if isinstance(source, Mapping):
            for key, value in list(source.items())[:MAX_LABELS]:
                if isinstance(key, str) and isinstance(value, str | int | float | bool):
                    merged[key] = str(value)
    return merged


def _unix_time(value: Any) -> datetime | None:
    """Seconds since the epoch as a time; None when absent or not a time that can be."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any, limit: int = 300) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _cloud_monitoring(incident: Mapping[str, Any]) -> Alert:
    incident_id = incident.get("incident_id")
    if not isinstance(incident_id, str) or not incident_id:
        raise InvalidAlert("the incident has no incident_id")
    state = incident.get("state")
    if not isinstance(state, str) or state not in {"open", "closed"}:
        raise InvalidAlert(f"incident {incident_id[:80]}: state is neither open nor closed")
    started_at = _unix_time(incident.get("started_at"))
    resource, metric = _mapping(incident.get("resource")), _mapping(incident.get("metric"))
    return Alert(
        source="cloud-monitoring",
        key=f"incident:{incident_id[:200]}",
        firing=state == "open",
        name=_text(incident.get("policy_name")) or _text(incident.get("condition_name")),
        started_at=started_at,
        labels=_labels(
            resource.get("labels"), metric.get("labels"), incident.get("policy_user_labels")
        ),
        summary=_text(incident.get("summary")),
    )


def _alertmanager(body: Mapping[str, Any]) -> list[Alert]:
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise InvalidAlert("the Alertmanager payload has no alerts list")
    common = body.get("commonLabels")
    found = []
    for index, item in enumerate(alerts[:MAX_ALERTS]):
        if not isinstance(item, Mapping):
            raise InvalidAlert(f"alerts[{index}] is not an object")
        status = item.get("status", body.get("status"))
        if not isinstance(status, str) or status not in {"firing", "resolved"}:
            raise InvalidAlert(f"alerts[{index}].status is neither firing nor resolved")
        labels = _labels(common, item.get("labels"))
        fingerprint = _text(item.get("fingerprint"), 64)
        starts = _text(item.get("startsAt"), 64)
        if not fingerprint:
            # Alertmanager always sends one; a relay may not: the labels identify the alert.
            fingerprint = "labels:" + json.dumps(labels, sort_keys=True)[:200]
        annotations = _mapping(item.get("annotations"))
        found.append(
            Alert(
                source="alertmanager",
                key=f"alert:{fingerprint}:{starts}",
                firing=status == "firing",
                name=labels.get("alertname", ""),
                started_at=parse_time(starts),
                labels=labels,
                summary=_text(annotations.get("summary")) or _text(annotations.get("description")),
            )
        )
    return found


def parse_alerts(payload: bytes | str | Mapping[str, Any]) -> list[Alert]:
    """The alerts in a Cloud Monitoring notification or an Alertmanager webhook body."""
    if isinstance(payload, bytes | str):
        try:
            payload = load_document(payload, ALERT_DOCUMENT, syntax="json")
        except DocumentError as error:
            raise InvalidAlert(f"the payload cannot be read: {error}") from None
    if not isinstance(payload, Mapping):
        raise InvalidAlert("the payload is not a JSON object")
    if isinstance(payload.get("incident"), Mapping):
        return [_cloud_monitoring(payload["incident"])]
    if "alerts" in payload:
        return _alertmanager(payload)
    raise InvalidAlert(
        "neither a Cloud Monitoring incident (incident) nor an Alertmanager webhook (alerts)"
    )

"""The event parsers under random input: bytes, truncated JSON, wrong types, huge attributes.
Whatever arrives, the answer is a decoded event or a clear refusal (acknowledged, never
retried), never an unhandled exception."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.events.alerts import InvalidAlert, parse_alerts
from shared.events.pubsub import InvalidEvent, decode
from shared.handlers.reconcile import BadMessage, read
from shared.values.validation import InvalidPlatform, load_platform

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
attribute_maps = st.dictionaries(
    st.sampled_from(["cluster", "generation", "source", "action", "other"]) | st.text(max_size=8),
    st.text(max_size=30) | st.integers() | st.none() | st.text(min_size=5000, max_size=6000),
    max_size=6,
)
payloads = (
    st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
    | st.text(max_size=60)
    | json_values
)


def _envelope(message: Any, attributes: Any) -> tuple[dict[str, Any], Any]:
    return (
        {"type": "google.cloud.pubsub.topic.v1.messagePublished", "id": "e1"},
        {"message": message, "subscription": "s"} if attributes is not None else message,
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    data=payloads,
    attributes=attribute_maps | json_values,
    message_id=st.text(max_size=10) | st.integers() | st.none(),
    shape=st.sampled_from(["message", "raw", "no-data"]),
)
def test_a_spec_event_is_decoded_or_refused_clearly(
    data: Any, attributes: Any, message_id: Any, shape: str
) -> None:
    message: Any = {"data": data, "attributes": attributes, "messageId": message_id}
    if shape == "no-data":
        message.pop("data")
    event_attributes, event_data = _envelope(message, None if shape == "raw" else attributes)
    try:
        spec = read(decode(event_attributes, event_data))
    except (InvalidEvent, BadMessage) as refused:
        assert str(refused)  # a reason a person can read
        return
    assert spec.wanted.cluster and spec.message.message_id
    try:
        load_platform(spec.text)
    except InvalidPlatform as invalid:
        assert invalid.problems


@settings(max_examples=200, deadline=None)
@given(document=json_values, truncate=st.integers(min_value=0, max_value=200))
def test_truncated_or_mistyped_specs_are_refused_with_problems(
    document: Any, truncate: int
) -> None:
    text = json.dumps(
        {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": "obs", "namespace": "monitoring"},
            "spec": document,
        }
    )
    for candidate in (text, text[:truncate]):
        try:
            load_platform(candidate)
        except InvalidPlatform as invalid:
            assert invalid.problems and all(str(p) for p in invalid.problems)


def test_huge_attributes_and_non_utf8_data_are_refused_not_raised() -> None:
    event = _envelope(
        {
            "data": base64.b64encode(b"\xff\xfe\x00").decode(),
            "messageId": "m",
            "attributes": {"cluster": "x" * 100_000},
        },
        {},
    )
    try:
        read(decode(*event))
    except (InvalidEvent, BadMessage) as refused:
        assert "UTF-8" in str(refused)


alert_items = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["firing", "resolved", "pending"]) | json_values,
        "labels": st.dictionaries(st.text(max_size=12), json_values, max_size=6) | json_values,
        "annotations": json_values,
        "startsAt": st.text(max_size=30) | json_values,
        "fingerprint": st.text(max_size=20) | json_values,
    },
)
incidents = st.fixed_dictionaries(
    {},
    optional={
        "incident_id": st.text(max_size=20) | json_values,
        "state": st.sampled_from(["open", "closed", "acked"]) | json_values,
        "started_at": st.integers() | st.floats(allow_nan=False) | json_values,
        "policy_name": json_values,
        "resource": st.fixed_dictionaries({"labels": json_values}) | json_values,
        "metric": json_values,
        "policy_user_labels": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(
    payload=st.one_of(
        st.fixed_dictionaries(
            {"alerts": st.lists(alert_items, max_size=4) | json_values},
            optional={"status": json_values, "commonLabels": json_values},
        ),
        st.fixed_dictionaries({"incident": incidents | json_values, "version": json_values}),
        json_values,
        st.binary(max_size=200),
    ),
)
def test_alert_payloads_are_read_or_refused_clearly(payload: Any) -> None:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    for candidate in (raw, raw[: len(raw) // 2]):
        try:
            alerts = parse_alerts(candidate)
        except InvalidAlert as refused:
            assert str(refused)
            continue
        for alert in alerts:
            assert alert.key and alert.source in {"alertmanager", "cloud-monitoring"}
            assert all(isinstance(v, str) for v in alert.labels.values())

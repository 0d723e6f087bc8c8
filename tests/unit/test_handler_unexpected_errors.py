"""An exception nothing in gunj foresaw (a defect, a library failing oddly) in one of the three
Pub/Sub functions still leaves a trace: one structured log line (severity ERROR, naming the
exception's type, never its text, which may quote a secret) and a transient `error` outcome on
the function's topic; the event is then delivered again (Redeliver, which the entry point lets
escape, so Pub/Sub retries it and in the end dead-letters it).

The failure is injected where the handler reaches the engine; the handler, its reporting and
its publisher are the real ones, publishing to a Pub/Sub client that records what it is given."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from shared.handlers import alerts, outcomes, reconcile, rollback, upgrades
from shared.handlers.outcomes import Publisher, Redeliver
from shared.handlers.topics import EVENTS, REPORTS, Topics

SECRET = "hunter2-token-value"
ENV = {"GUNJ_PROJECT": "p", "GUNJ_TOPIC_PREFIX": "t", "GUNJ_CLUSTER_REGISTRY": "{}"}


class PubSub:
    """A Pub/Sub publisher client that keeps what is published, by topic path."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def publish(self, topic: str, data: bytes, **attributes: str) -> Future[str]:
        self.published.append((topic, json.loads(data), attributes))
        done: Future[str] = Future()
        done.set_result(str(len(self.published)))
        return done

    def on(self, topic: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
        path = Topics("p", "t").path(topic)
        return [(document, attrs) for where, document, attrs in self.published if where == path]


@pytest.fixture
def pubsub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> PubSub:
    client = PubSub()
    publisher = Publisher(Topics.from_environment(ENV))
    publisher._client = client
    monkeypatch.setitem(outcomes._PUBLISHERS, publisher.topics, publisher)
    monkeypatch.setenv("GUNJ_CACHE_DIR", str(tmp_path / "cache"))
    return client


def failing(*_: object, **__: object) -> Any:
    raise ValueError(f"could not parse credentials password={SECRET}")


def event(data: bytes | str, **attributes: str) -> CloudEvent:
    raw = data.encode() if isinstance(data, str) else data
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/t-x",
            "id": "e-1",
        },
        {
            "message": {
                "data": base64.b64encode(raw).decode(),
                "attributes": attributes,
                "messageId": "m-1",
            },
            "subscription": "s",
        },
    )


def log_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def assert_reported(
    line: Mapping[str, Any], document: Mapping[str, Any], function: str, captured: str
) -> None:
    assert line["severity"] == "ERROR"
    assert line["function"] == function
    assert "unexpected ValueError" in line["message"]
    assert document["result"] == "error"
    assert document["transient"] is True
    assert "unexpected ValueError" in document["message"]
    assert SECRET not in captured + json.dumps(document)


SPEC = """
apiVersion: observability.io/v1beta1
kind: ObservabilityPlatform
metadata: {name: obs, namespace: team}
spec:
  prometheus: {}
"""


def test_reconcile_reports_an_unexpected_exception_and_has_the_spec_delivered_again(
    pubsub: PubSub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(reconcile, "reconciler", failing)

    with pytest.raises(Redeliver) as redelivered:
        reconcile.handle(event(SPEC, cluster="prod"), ENV)

    captured = capsys.readouterr().out
    [line] = log_lines(captured)
    [(document, attributes)] = pubsub.on(EVENTS)
    assert_reported(line, document, "reconcile", captured)
    assert (document["message_id"], document["cluster"]) == ("m-1", "prod")
    assert attributes == {"function": "reconcile", "result": "error"}
    assert SECRET not in str(redelivered.value)
    assert redelivered.value.__context__ is None  # the exception's text goes nowhere


WEBHOOK = {
    "version": "4",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "Down", "gunj_cluster": "prod"},
            "startsAt": "2026-01-01T00:00:00Z",
            "fingerprint": "f1",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "Gone", "gunj_cluster": "prod"},
            "startsAt": "2026-01-01T00:00:00Z",
            "fingerprint": "f2",
        },
    ],
}


def test_rollback_reports_an_unexpected_exception_per_alert_and_has_them_delivered_again(
    pubsub: PubSub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(alerts, "find_target", failing)

    with pytest.raises(Redeliver) as redelivered:
        rollback.handle(event(json.dumps(WEBHOOK)), ENV)

    captured = capsys.readouterr().out
    firing, resolved = log_lines(captured)
    [(document, _), (other, _)] = pubsub.on(EVENTS)
    assert_reported(firing, document, "rollback", captured)
    assert document["alert"] == "alert:f1:2026-01-01T00:00:00Z"
    # The other alert of the message is still judged.
    assert (resolved["result"], other["result"]) == ("ignored", "ignored")
    assert SECRET not in str(redelivered.value)
    assert redelivered.value.__context__ is None


def test_upgrades_reports_an_unexpected_exception_and_has_the_tick_delivered_again(
    pubsub: PubSub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(upgrades, "check_fleet", failing)

    with pytest.raises(Redeliver) as redelivered:
        upgrades.handle(event(""), ENV)

    captured = capsys.readouterr().out
    [line] = log_lines(captured)
    [(document, attributes)] = pubsub.on(REPORTS)
    assert_reported(line, document, "upgrades", captured)
    assert document["kind"] == "fleet" and attributes == {"kind": "fleet"}
    assert pubsub.on(EVENTS) == []  # its identity publishes to upgrade-reports only
    assert SECRET not in str(redelivered.value)
    assert redelivered.value.__context__ is None

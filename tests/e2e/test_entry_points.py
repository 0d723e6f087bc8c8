"""The real entry points, served by functions-framework and fed by a push subscription of the
Pub/Sub emulator, as Cloud Functions runs them: each event is handled and reported (a document
on its topic, one structured log line), and the event's data is never logged; an event that is
not a Pub/Sub message is acknowledged and reported, never delivered again."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function

# A valid spec: the reconcile function reads it before it looks for the cluster.
SECRET_DATA = (
    b"apiVersion: observability.io/v1beta1\nkind: ObservabilityPlatform  # never logged\n"
    b"metadata: {name: obs, namespace: entry}\nspec: {prometheus: {enabled: false}}\n"
)


Serve = Callable[[str], ServedFunction]


@pytest.fixture
def serve(local_stack: Stack, tmp_path: Path) -> Iterator[Serve]:
    """Serves a function on topics of its own; stopped when the test ends."""
    clusters = registry_file(local_stack, tmp_path)
    with contextlib.ExitStack() as running:
        yield lambda function: running.enter_context(
            served_function(
                function, local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
            )
        )


@pytest.mark.parametrize(
    ("function", "result"),
    [("reconcile", "refused"), ("rollback", "invalid")],
)
def test_a_pushed_message_is_handled_reported_and_logged_once_without_its_data(
    function: str, result: str, serve: Serve
) -> None:
    served = serve(function)

    message_id = served.publish(SECRET_DATA, cluster="prod-eu")
    outcome = served.final(message_id, timeout=60)

    # reconcile: no cluster prod-eu is registered; rollback: the payload is no alert.
    assert (outcome["result"], outcome["transient"]) == (result, False), outcome
    lines = [line for line in served.log_lines() if line.get("message_id") == message_id]
    assert len(lines) == 1, lines
    assert (lines[0]["function"], lines[0]["result"], lines[0]["severity"]) == (
        function,
        result,
        "ERROR",
    )
    assert "never logged" not in served.daemon.log_path.read_text()


def test_a_scheduler_tick_reaches_the_upgrades_entry_point(serve: Serve) -> None:
    served = serve("upgrades")

    served.publish(json.dumps({"clusters": []}))
    report = served.fleet_report(timeout=60)

    assert (report["clusters"], report["platforms"], report["cluster_errors"]) == ([], 0, {})
    lines = [line for line in served.log_lines() if line.get("function") == "upgrades"]
    assert len(lines) == 1 and lines[0]["severity"] == "INFO", lines
    assert "0 platform(s) checked" in lines[0]["message"]


def test_an_event_that_is_not_a_message_is_acknowledged_and_reported(serve: Serve) -> None:
    served = serve("reconcile")
    request = urllib.request.Request(  # noqa: S310 - the function on 127.0.0.1
        served.endpoint,
        method="POST",
        data=json.dumps(
            {
                "specversion": "1.0",
                "id": "1",
                "source": "//test",
                "type": "google.cloud.pubsub.topic.v1.messagePublished",
                "datacontenttype": "application/json",
                "data": {"not": "a message"},
            }
        ).encode(),
        headers={"Content-Type": "application/cloudevents+json"},
    )

    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        status = response.status

    assert status == 200  # acknowledged: delivering it again could never succeed
    invalid = [line for line in served.log_lines() if line.get("result") == "invalid"]
    assert len(invalid) == 1 and invalid[0]["severity"] == "ERROR", invalid
    served.drain()
    assert [e["result"] for e in served.received] == ["invalid"]

"""Alert-driven rollback end to end, with Helm 3 and Helm 4: health alerts reach the real
rollback functions (through the Pub/Sub emulator, and Alertmanager's webhook over HTTP), a bad
change is rolled back to the last good revision once per alert, and the version rolled back from
stays quarantined until a person lifts it. Over HTTP, a token acts only on the clusters whose
registry entries list its hash: the local stack's token on ``local``, another on ``other`` (a
second entry for the same cluster), which cannot roll back ``local``."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.clusters.alerttokens import mint, token_hash
from shared.helm import HelmClient
from shared.localstack import serving
from shared.localstack.processes import Daemon
from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.engine_support import SMALL_PROMETHEUS, Engine, platform

OTHER_TOKEN = mint()


@pytest.fixture
def token(local_stack: Stack) -> str:
    """The local stack's Alertmanager token, the one `gunj local up` lists for ``local``."""
    return serving.alertmanager_token(local_stack)


@pytest.fixture
def clusters(local_stack: Stack, tmp_path: Path, token: str) -> Path:
    """``local`` with the local stack's token; ``other``, the same cluster under another name,
    with a token of its own."""
    path = registry_file(local_stack, tmp_path)
    entries = yaml.safe_load(path.read_text())
    local = {**entries["local"], "alertTokens": [token_hash(token)]}
    other = {k: v for k, v in local.items() if k != "aliases"}
    other["alertTokens"] = [token_hash(OTHER_TOKEN)]
    path.write_text(yaml.safe_dump({"local": local, "other": other}))
    return path


@pytest.fixture
def rollback(
    local_stack: Stack, tmp_path: Path, helm: HelmClient, clusters: Path
) -> Iterator[ServedFunction]:
    with served_function(
        "rollback", local_stack, tmp_path, helm=helm.binary.path, clusters=clusters
    ) as served:
        yield served


@pytest.fixture
def webhook(rollback: ServedFunction) -> Iterator[str]:
    """The alertmanager HTTP function, beside the rollback function (same topics and registry,
    no token of its own)."""
    env = dict(rollback.env)
    daemon, port = serving.start_function(
        serving.ALERTMANAGER, rollback.folder / "webhook", env, signature="http"
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        daemon.stop()


def post(url: str, body: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - the function on 127.0.0.1
        url, data=json.dumps(body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as answer:  # noqa: S310
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read() or b"{}")


def alertmanager(
    status: str, labels: dict[str, str], starts: datetime, fingerprint: str
) -> dict[str, Any]:
    return {
        "version": "4",
        "status": status,
        "receiver": "gunj",
        "groupLabels": {"alertname": labels.get("alertname", "")},
        "commonLabels": {},
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": "Prometheus is not ready"},
                "startsAt": starts.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": fingerprint,
            }
        ],
    }


def _installed_then_upgraded(engine: Engine, namespace: str) -> None:
    good = platform(namespace, prometheus={**SMALL_PROMETHEUS, "chartVersion": "29.26.0"})
    assert engine.apply(good).result == "ready"
    newer = platform(namespace, prometheus={**SMALL_PROMETHEUS, "chartVersion": "29.27.0"})
    assert engine.apply(newer).result == "ready"
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (2, "29.27.0")


def test_an_alert_after_a_change_rolls_it_back_once_and_quarantines_the_version(
    engine: Engine, namespace: str, rollback: ServedFunction, webhook: str, token: str
) -> None:
    _installed_then_upgraded(engine, namespace)
    changed = engine.status(namespace).components["prometheus"].last_changed
    assert changed is not None
    labels = {
        "alertname": "PrometheusNotReady",
        "gunj_cluster": "local",
        "gunj_platform": f"{namespace}/obs",
        "gunj_component": "prometheus",
    }
    firing = alertmanager("firing", labels, changed + timedelta(seconds=5), "fp-1")

    message_id = rollback.publish(json.dumps(firing))
    outcome = rollback.final(message_id)

    assert outcome["result"] == "rolled-back", outcome
    assert "rolling back to the last good revision 1" in outcome["message"]
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (3, "29.26.0")
    status = engine.status(namespace)
    quarantined = status.quarantined_versions
    assert [(q.component, q.chart_version) for q in quarantined] == [("prometheus", "29.27.0")]
    assert quarantined[0].incident and "fp-1" in quarantined[0].incident
    assert status.components["prometheus"].tested
    reasons = [reason for _, reason, _ in engine.events(namespace)]
    assert {"HealthAlert", "Rollback", "Quarantined"} <= set(reasons)

    # The same alert again, through Pub/Sub and over HTTP: judged once.
    again = rollback.final(rollback.publish(json.dumps(firing)))
    code, answer = post(webhook, firing, token)
    assert again["result"] == "duplicate"
    assert code == 200 and answer["outcomes"][0]["result"] == "duplicate"
    assert engine.release(namespace, "obs-prometheus").revision == 3

    # Another alert about the same change, within the window: that change is undone already,
    # and the rollback is no change of its own to undo.
    other = alertmanager("firing", labels, changed + timedelta(seconds=8), "fp-3")
    undone = rollback.final(rollback.publish(json.dumps(other)))
    assert undone["result"] == "ignored", undone
    assert "rolled back or replaced already" in undone["message"]
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (3, "29.26.0")
    assert engine.status(namespace).quarantined_versions == quarantined

    resolved = rollback.final(
        rollback.publish(json.dumps(alertmanager("resolved", labels, changed, "fp-1")))
    )
    assert resolved["result"] == "ignored" and "resolved" in resolved["message"]

    # A later alert, named by namespace and release, outside the bake window.
    late = alertmanager(
        "firing",
        {
            "alertname": "HighLatency",
            "cluster": "kwok-gunj",
            "namespace": namespace,
            "release": "obs-prometheus",
        },
        datetime.now(UTC) + timedelta(hours=2),
        "fp-2",
    )
    outside = rollback.final(rollback.publish(json.dumps(late)))
    assert outside["result"] == "ignored"
    assert "outside the bake window of 30m" in outside["message"]
    assert engine.release(namespace, "obs-prometheus").revision == 3

    # The spec still asks for the quarantined version: held, and said so.
    newer = platform(namespace, prometheus={**SMALL_PROMETHEUS, "chartVersion": "29.27.0"})
    held = engine.apply(newer)
    assert held.result == "stalled"
    stalled = {c.type: c for c in engine.status(namespace).conditions}["Stalled"]
    assert stalled.reason == "Held" and "29.27.0 is quarantined" in stalled.message
    assert engine.release(namespace, "obs-prometheus").revision == 3

    lifted = engine.reconciler.unquarantine(namespace, "obs", "prometheus", "29.27.0")
    assert lifted.result == "ready"
    applied = engine.apply(newer)
    assert applied.result == "ready"
    assert engine.release(namespace, "obs-prometheus").chart_version == "29.27.0"


def test_a_cloud_monitoring_incident_rolls_back_and_its_closing_changes_nothing(
    engine: Engine, namespace: str, rollback: ServedFunction
) -> None:
    _installed_then_upgraded(engine, namespace)
    pods = engine.access.core.list_namespaced_pod(
        namespace, label_selector="app.kubernetes.io/instance=obs-prometheus"
    ).items
    server = next(p.metadata.name for p in pods if "server" in p.metadata.name)
    incident = {
        "incident_id": f"0.{uuid.uuid4().hex[:12]}",
        "state": "open",
        "started_at": int(time.time()),
        "policy_name": "Prometheus pods not ready",
        "condition_name": "ready pods",
        "resource": {
            "type": "k8s_pod",
            # The cluster by its alias (its GKE name), the pod by its name: gunj follows the
            # pod's owners to the release.
            "labels": {
                "cluster_name": "kwok-gunj",
                "namespace_name": namespace,
                "pod_name": server,
            },
        },
        "metric": {"type": "kubernetes.io/container/restart_count", "labels": {}},
        "policy_user_labels": {},
        "summary": "restarts",
    }

    opened = rollback.final(rollback.publish(json.dumps({"incident": incident, "version": "1.2"})))

    assert opened["result"] == "rolled-back", opened
    assert engine.release(namespace, "obs-prometheus").chart_version == "29.26.0"

    closed = rollback.final(
        rollback.publish(
            json.dumps({"incident": {**incident, "state": "closed"}, "version": "1.2"})
        )
    )
    assert closed["result"] == "ignored" and "resolved" in closed["message"]
    assert engine.release(namespace, "obs-prometheus").revision == 3


def test_unknown_targets_are_acknowledged_and_a_wrong_token_is_refused(
    rollback: ServedFunction, webhook: str, namespace: str, token: str
) -> None:
    unknown = alertmanager(
        "firing",
        {
            "alertname": "X",
            "gunj_cluster": "local",
            "gunj_platform": f"{namespace}/nothing",
            "gunj_component": "prometheus",
        },
        datetime.now(UTC),
        "fp-unknown",
    )
    outcome = rollback.final(rollback.publish(json.dumps(unknown)))
    assert (outcome["result"], outcome["transient"]) == ("error", False)
    assert f"{namespace}/nothing does not exist" in outcome["message"]
    nameless = rollback.final(
        rollback.publish(
            json.dumps(alertmanager("firing", {"alertname": "Y"}, datetime.now(UTC), "fp-nameless"))
        )
    )
    assert nameless["result"] == "invalid" and "names no cluster" in nameless["message"]
    assert rollback.dead_lettered() == []

    assert post(webhook, unknown, "not-the-token")[0] == 401
    assert post(webhook, unknown, mint())[0] == 401  # well formed, listed for no cluster
    assert post(webhook, unknown, token_hash(token))[0] == 401  # the hash is no token
    assert post(webhook, unknown, None)[0] == 401
    # Then once with the token: its outcome is published before the answer, after whatever a
    # refused request would have published, so once it is here the count is complete.
    code, answer = post(webhook, unknown, token)
    assert code == 200 and answer["outcomes"][0]["result"] == "error"
    key = outcome["alert"]
    assert answer["outcomes"][0]["alert"] == key

    def over_http() -> list[dict[str, Any]]:
        # Outcomes judged over HTTP carry no Pub/Sub message id.
        return [e for e in rollback.received if e.get("alert") == key and "message_id" not in e]

    deadline = time.monotonic() + 60
    while not over_http() and time.monotonic() < deadline:
        rollback.drain()
    rollback.drain()  # anything published with it
    assert len(over_http()) == 1, over_http()  # the refused requests judged nothing
    assert len([e for e in rollback.received if e.get("alert") == key]) == 2


def test_a_token_for_one_cluster_cannot_roll_back_another(
    engine: Engine, namespace: str, rollback: ServedFunction, webhook: str, token: str
) -> None:
    _installed_then_upgraded(engine, namespace)
    changed = engine.status(namespace).components["prometheus"].last_changed
    assert changed is not None
    labels = {
        "alertname": "PrometheusNotReady",
        "gunj_cluster": "local",
        "gunj_platform": f"{namespace}/obs",
        "gunj_component": "prometheus",
    }
    firing = alertmanager("firing", labels, changed + timedelta(seconds=5), "fp-other")
    # The same alert naming the cluster by its alias: still the cluster local.
    aliased = alertmanager(
        "firing", {**labels, "gunj_cluster": "kwok-gunj"}, changed + timedelta(seconds=5), "fp-al"
    )

    for alert in (firing, aliased):
        code, answer = post(webhook, alert, OTHER_TOKEN)

        assert code == 200, answer
        [outcome] = answer["outcomes"]
        assert (outcome["result"], outcome["cluster"]) == ("refused", "local"), outcome
        assert "names cluster 'local', which its token may not act on" in outcome["message"]
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (2, "29.27.0")
    status = engine.status(namespace)
    assert status.quarantined_versions == []
    reasons = {reason for _, reason, _ in engine.events(namespace)}
    assert not {"HealthAlert", "Rollback", "Quarantined"} & reasons
    # Reported on platform-events and in the function's log, naming the cluster, never the token.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rollback.drain()
        refused = [e for e in rollback.received if e.get("result") == "refused"]
        if len(refused) == 2:
            break
    assert [e["cluster"] for e in refused] == ["local", "local"]
    log = Daemon(f"function-{serving.ALERTMANAGER}", rollback.folder / "webhook").log_path
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("result") == "refused"]
    assert [line["cluster"] for line in logged] == ["local", "local"]
    assert OTHER_TOKEN not in log.read_text() and token not in log.read_text()

    # The token listed for local rolls the same change back.
    code, answer = post(webhook, firing, token)
    assert code == 200 and answer["outcomes"][0]["result"] == "rolled-back", answer
    release = engine.release(namespace, "obs-prometheus")
    assert (release.revision, release.chart_version) == (3, "29.26.0")

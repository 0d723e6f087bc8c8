"""Alertmanager tokens per cluster without a cluster: the registry's ``alertTokens`` (hashes
only, every problem named by field and never quoted), ``gunj clusters token`` (the token printed
once, its hash registered), and the alertmanager function's judgement of a token: 401 for one
listed nowhere, and ``refused`` for an alert naming a cluster its token is not listed for,
before anything reads that cluster (its kubeconfig does not even exist here).

The handler, its reporting and its publisher are the real ones, publishing to a Pub/Sub client
that records what it is given; tests/e2e/test_alert_rollback.py runs the same path through
functions-framework, the Pub/Sub emulator and the local cluster."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cli.main import main
from shared.clusters import ClusterRegistry, RegistryError, UnknownCluster
from shared.clusters.alerttokens import matches, mint, token_hash
from shared.handlers import alertmanager, outcomes
from shared.handlers.outcomes import Publisher
from shared.handlers.topics import EVENTS, Topics
from tests.unit.test_handler_unexpected_errors import ENV, PubSub, log_lines

TOKEN_A = mint()
TOKEN_B = mint()
TOKEN_AB = mint()


def registry_text(tmp_path: Path) -> str:
    """Clusters a and b, whose kubeconfig files do not exist: reaching either fails loudly."""
    return json.dumps(
        {
            "a": {
                "kubeconfig": str(tmp_path / "missing-a.yaml"),
                "context": "c",
                "aliases": ["a-gke"],
                "alertTokens": [token_hash(TOKEN_A), token_hash(TOKEN_AB)],
            },
            "b": {
                "kubeconfig": str(tmp_path / "missing-b.yaml"),
                "context": "c",
                "alertTokens": [token_hash(TOKEN_B), token_hash(TOKEN_AB)],
            },
        }
    )


def webhook(cluster: str, namespace: str = "observability") -> bytes:
    labels = {
        "alertname": "GrafanaDown",
        "gunj_cluster": cluster,
        "gunj_platform": f"{namespace}/obs",
        "gunj_component": "grafana",
    }
    alert = {"status": "firing", "labels": labels, "startsAt": "2026-12-07T10:00:00Z"}
    return json.dumps({"version": "4", "status": "firing", "alerts": [alert]}).encode()


# --- the registry ---------------------------------------------------------------------------


def test_a_token_is_random_and_its_hash_is_what_the_registry_lists() -> None:
    token = mint()

    assert token != mint() and len(token) > 40
    assert token_hash(token).startswith("sha256:") and len(token_hash(token)) == 7 + 64
    assert token not in token_hash(token)
    assert matches(token, [token_hash(mint()), token_hash(token)])
    assert not matches(token, [token_hash(mint())])
    assert not matches(token, [])


def test_the_registry_reads_alert_token_hashes(tmp_path: Path) -> None:
    registry = ClusterRegistry.load({"GUNJ_CLUSTER_REGISTRY": registry_text(tmp_path)})

    assert registry.get("a").alert_tokens == (token_hash(TOKEN_A), token_hash(TOKEN_AB))
    assert (
        ClusterRegistry.load(
            {"GUNJ_CLUSTER_REGISTRY": "{x: {gke: {project: pp-1234, location: l}}}"}
        )
        .get("x")
        .alert_tokens
        == ()
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sha256:abc", "field 'alertTokens': must be a list of token hashes"),
        (f"['{TOKEN_A}']", "field 'alertTokens[0]': not a token hash"),
        ("[sha256:abc]", "field 'alertTokens[0]': not a token hash"),
        (f"['{token_hash(TOKEN_A).upper()}']", "field 'alertTokens[0]': not a token hash"),
        (f"['{token_hash(TOKEN_A)}', 3]", "field 'alertTokens[1]': not a token hash"),
    ],
)
def test_a_bad_alert_tokens_field_is_named_and_a_token_never_quoted(
    value: str, expected: str
) -> None:
    text = f"prod: {{kubeconfig: /k, context: c, alertTokens: {value}}}"
    with pytest.raises(RegistryError) as caught:
        ClusterRegistry.load({"GUNJ_CLUSTER_REGISTRY": text})

    assert any(f"cluster 'prod': {expected}" in p for p in caught.value.problems)
    assert TOKEN_A not in str(caught.value)


def test_tokens_are_added_to_entries_and_kept_when_a_cluster_is_registered_again(
    tmp_path: Path,
) -> None:
    env = {"GUNJ_CLUSTERS": str(tmp_path / "clusters.yaml")}
    registry = ClusterRegistry.load(env)
    registry.register("local", tmp_path / "a.yaml", "a")
    registry.register("other", tmp_path / "a.yaml", "a")
    digest = token_hash(TOKEN_A)

    registry.add_alert_token(["local", "other"], digest)
    registry.add_alert_token(["local"], digest)  # listed once only
    raw = yaml.safe_load((tmp_path / "clusters.yaml").read_text())
    raw["local"]["namespaces"] = ["observability"]
    (tmp_path / "clusters.yaml").write_text(yaml.safe_dump(raw))
    ClusterRegistry.load(env).register("local", tmp_path / "b.yaml", "b")

    reloaded = ClusterRegistry.load(env)
    assert reloaded.get("local").alert_tokens == (digest,)
    assert reloaded.get("local").tenancy.namespaces == ("observability",)
    assert reloaded.get("other").alert_tokens == (digest,)
    with pytest.raises(UnknownCluster):
        reloaded.add_alert_token(["nowhere"], digest)
    assert TOKEN_A not in (tmp_path / "clusters.yaml").read_text()


# --- gunj clusters token --------------------------------------------------------------------


def test_gunj_clusters_token_prints_the_token_once_and_registers_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clusters.yaml"
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)
    monkeypatch.setenv("GUNJ_CLUSTERS", str(path))
    registry = ClusterRegistry.load()
    for name in ("prod-eu", "prod-us", "staging"):
        registry.register(name, tmp_path / "k.yaml", "c")

    assert main(["clusters", "token", "prod-eu", "prod-us", "--register"]) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert token.startswith("gunj_alert_") and token not in printed.err
    assert f"hash: {token_hash(token)}" in printed.err
    reloaded = ClusterRegistry.load()
    assert reloaded.get("prod-eu").alert_tokens == (token_hash(token),)
    assert reloaded.get("prod-us").alert_tokens == (token_hash(token),)
    assert reloaded.get("staging").alert_tokens == ()
    assert token not in path.read_text()

    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    assert main(["clusters", "token", "--hash"]) == 0
    assert capsys.readouterr().out.strip() == token_hash(token)

    assert main(["clusters", "token", "nowhere", "--register"]) == 1
    assert "nowhere" in capsys.readouterr().err
    assert main(["clusters", "token"]) == 2
    assert main(["clusters"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[-2:] == ["ALERT", "TOKENS"]
    assert {line.split()[0]: line.split()[-1] for line in table[2:]} == {
        "prod-eu": "1",
        "prod-us": "1",
        "staging": "none",
    }


# --- the alertmanager function --------------------------------------------------------------


@pytest.fixture
def pubsub(monkeypatch: pytest.MonkeyPatch) -> PubSub:
    client = PubSub()
    publisher = Publisher(Topics.from_environment(ENV))
    publisher._client = client
    monkeypatch.setitem(outcomes._PUBLISHERS, publisher.topics, publisher)
    return client


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**ENV, "GUNJ_CLUSTER_REGISTRY": registry_text(tmp_path)}


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", f"Basic {TOKEN_A}", f"Bearer {TOKEN_A}x", f"Bearer {mint()}", "Bearer  "],
)
def test_a_token_listed_for_no_cluster_is_refused_with_401(
    header: str | None,
    env: dict[str, str],
    pubsub: PubSub,
) -> None:
    headers = {} if header is None else {"Authorization": header}

    status, body = alertmanager.handle(webhook("a"), headers, env)

    assert status == 401 and "outcomes" not in body
    assert pubsub.on(EVENTS) == []


def test_an_alert_naming_a_cluster_its_token_may_not_act_on_is_refused_before_reaching_it(
    env: dict[str, str],
    pubsub: PubSub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for named in ("a", "a-gke"):  # by name, and by alias
        status, body = alertmanager.handle(
            webhook(named), {"Authorization": f"Bearer {TOKEN_B}"}, env
        )

        assert status == 200
        [outcome] = body["outcomes"]
        assert (outcome["result"], outcome["cluster"], outcome["transient"]) == (
            "refused",
            "a",
            False,
        )
        assert "names cluster 'a', which its token may not act on" in outcome["message"]
        assert "nothing was done" in outcome["message"]
    published = [document for document, _ in pubsub.on(EVENTS)]
    assert [(d["result"], d["cluster"]) for d in published] == [("refused", "a")] * 2
    logged = [line for line in log_lines(capsys.readouterr().out) if line.get("cluster") == "a"]
    assert len(logged) == 2 and all("refused" in line["message"] for line in logged)
    assert all(TOKEN_B not in json.dumps(d) for d in published + logged)


def test_a_token_may_act_on_each_cluster_it_is_listed_for(
    env: dict[str, str],
    pubsub: PubSub,
) -> None:
    # Judged, not refused: the judgement then tries to reach the cluster, whose kubeconfig does
    # not exist here, and says so.
    for token, cluster in ((TOKEN_A, "a"), (TOKEN_AB, "a"), (TOKEN_AB, "b")):
        status, body = alertmanager.handle(
            webhook(cluster), {"authorization": f"bearer {token}"}, env
        )

        [outcome] = body["outcomes"]
        assert outcome["result"] != "refused", outcome
        assert f"missing-{cluster}.yaml" in outcome["message"], outcome
        assert status in {200, 503}


def test_an_unreadable_registry_answers_503_without_saying_why(
    pubsub: PubSub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env: dict[str, Any] = {**ENV, "GUNJ_CLUSTER_REGISTRY": "a: {kubeconfig: /k}"}

    status, body = alertmanager.handle(webhook("a"), {"Authorization": f"Bearer {TOKEN_A}"}, env)

    assert (status, body) == (503, {"error": "the cluster registry cannot be read"})
    assert "field 'context'" in capsys.readouterr().out

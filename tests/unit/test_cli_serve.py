"""`gunj serve` on a machine where `gunj local up` never ran: it registers the local stack's
cluster as `local`, so `gunj publish SPEC --cluster local` reaches it. Starting the stack and
the functions is replaced here (their own tests start them for real); the registry is the real
one, in a file of the test's own."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shared.cli.main import main
from shared.clusters import ClusterRegistry, KubeconfigFile
from shared.clusters.alerttokens import token_hash
from shared.handlers import topics as names
from shared.localstack import serving, stack
from shared.localstack.stack import Ports, Stack
from tests.unit.test_clusters import kubeconfig_text


def fake_stack(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """A stack whose kubeconfig is a real file, brought up and served without processes."""
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text())
    running = Stack("local", folder, kubeconfig, {}, folder / "kubectl", Ports(1, 2, 3, 4))
    monkeypatch.setattr(stack, "up", lambda **_: running)
    ports = {function: 10 + n for n, function in enumerate([*names.TRIGGERS, "alertmanager"])}
    monkeypatch.setattr(serving, "serve", lambda _: serving.Served(ports, names.Topics("p")))
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)  # serve sets it for the stack
    return running


def test_serve_registers_the_local_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    running = fake_stack(tmp_path, monkeypatch)
    registry_file = tmp_path / "config" / "clusters.yaml"
    monkeypatch.setenv("GUNJ_CLUSTERS", str(registry_file))
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)

    assert main(["serve"]) == 0

    local = ClusterRegistry.load().get("local")
    assert local.target == KubeconfigFile(running.kubeconfig, "main")
    assert f"cluster 'local' registered in {registry_file}" in capsys.readouterr().out
    # With the stack's Alertmanager token listed for it (its hash only), once however often.
    token_file = tmp_path / serving.TOKEN_FILE
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = serving.alertmanager_token(running)
    assert main(["serve"]) == 0
    assert ClusterRegistry.load().get("local").alert_tokens == (token_hash(token),)
    assert token not in registry_file.read_text()


def test_serve_still_serves_when_the_registry_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A registry given inline (as the functions get it in Google Cloud) has no file to write.
    fake_stack(tmp_path, monkeypatch)
    monkeypatch.delenv("GUNJ_CLUSTERS", raising=False)
    monkeypatch.setenv("GUNJ_CLUSTER_REGISTRY", "{}")

    assert main(["serve"]) == 0

    captured = capsys.readouterr()
    assert "cluster 'local' not registered" in captured.err
    assert "serving on the local stack" in captured.out

"""`gunj serve` says where gunj's metrics are served. Starting the stack, the functions and the
exporter is replaced here (tests/e2e/test_metrics_endpoint.py runs the exporter for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.cli.main import main
from shared.handlers import topics as names
from shared.localstack import serving
from tests.unit.test_cli_serve import fake_stack


def test_serve_prints_the_metrics_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_stack(tmp_path, monkeypatch)
    monkeypatch.setenv("GUNJ_CLUSTERS", str(tmp_path / "clusters.yaml"))
    monkeypatch.delenv("GUNJ_CLUSTER_REGISTRY", raising=False)
    ports = {function: 10 + n for n, function in enumerate([*names.TRIGGERS, "alertmanager"])}
    served = serving.Served(ports, names.Topics("p"), metrics_port=9464)
    monkeypatch.setattr(serving, "serve", lambda _: served)

    assert main(["serve"]) == 0

    out = capsys.readouterr().out
    assert "metrics      http://127.0.0.1:9464/metrics  <- Prometheus" in out

"""Fixtures of the Helm tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.localstack import tools
from tests.conftest import unavailable


@pytest.fixture(scope="session")
def promtool() -> Path:
    """promtool of the Prometheus release the supported chart deploys (built on first use)."""
    try:
        return tools.ensure_promtool()
    except tools.ProvisionError as error:
        unavailable(f"promtool could not be provisioned: {error}")
        raise  # unreachable: unavailable() always raises

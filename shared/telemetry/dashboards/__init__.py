"""The Grafana dashboard of gunj's metrics (``gunj.json``), shipped with the package."""

from pathlib import Path

GUNJ = Path(__file__).with_name("gunj.json")

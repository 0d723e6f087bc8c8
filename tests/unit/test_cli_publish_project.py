"""`gunj publish` and `gunj events` with --project: arguments that cannot work are refused
(exit 2) before anything is published or subscribed, naming the flag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gunj(*arguments: str) -> subprocess.CompletedProcess[str]:
    # No emulator, no credentials: a call to Pub/Sub would fail, so exit 2 means none was made.
    env = {k: v for k, v in os.environ.items() if k != "PUBSUB_EMULATOR_HOST"}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_publish_to_a_project_needs_a_subscription_to_wait(tmp_path: Path) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text((ROOT / "examples" / "minimal.yaml").read_text())

    waited = gunj("publish", str(spec), "--cluster", "c", "--project", "acme-obs", "--wait")
    events = gunj("events", "--project", "acme-obs")
    bad = gunj("events", "--project", "Acme", "--subscription", "s")

    assert (waited.returncode, events.returncode, bad.returncode) == (2, 2, 2)
    assert "--subscription" in waited.stderr and "events_subscription" in events.stderr
    assert "--project 'Acme': not a project ID" in bad.stderr


def test_a_subscription_without_a_project_and_a_bad_prefix_are_refused(tmp_path: Path) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text((ROOT / "examples" / "minimal.yaml").read_text())

    alone = gunj("events", "--subscription", "s")
    prefix = gunj(
        "publish", str(spec), "--cluster", "c", "--project", "acme-obs", "--topic-prefix", "Gunj"
    )

    assert (alone.returncode, prefix.returncode) == (2, 2)
    assert "--subscription needs --project" in alone.stderr
    assert "--topic-prefix 'Gunj': not a name_prefix" in prefix.stderr

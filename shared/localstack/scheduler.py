"""Cloud Scheduler on the local stack: a background process that publishes a tick to a topic of
the Pub/Sub emulator at a fixed interval, as the Terraform module's scheduler job does in Google
Cloud (``gunj serve --resync-every 5m`` keeps the local fleet resynced this way).

Run as ``python -m shared.localstack.scheduler TOPIC SECONDS``; the emulator and project come
from the environment (``PUBSUB_EMULATOR_HOST``, ``GUNJ_PROJECT``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..handlers.topics import Topics
from .processes import Daemon

MINIMUM_SECONDS = 5.0


def daemon(folder: Path, topic: str) -> Daemon:
    return Daemon(f"scheduler-{topic}", folder)


def start(folder: Path, topic: str, seconds: float, env: dict[str, str]) -> Daemon:
    """(Re)start the ticker of ``topic``, every ``seconds``."""
    ticker = daemon(folder, topic)
    ticker.stop()
    ticker.start(
        [sys.executable, "-m", "shared.localstack.scheduler", topic, str(seconds)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    return ticker


def main(argv: list[str]) -> int:
    topic, seconds = argv[0], max(float(argv[1]), MINIMUM_SECONDS)
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    publisher = pubsub_v1.PublisherClient()
    path = Topics.from_environment().path(topic)
    while True:
        time.sleep(seconds)
        data = json.dumps({"trigger": "schedule"}).encode()
        try:
            publisher.publish(path, data, source="local-scheduler").result(timeout=30)
        except Exception as error:  # the emulator restarting: the next tick tries again
            print(f"tick to {topic} not published: {type(error).__name__}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

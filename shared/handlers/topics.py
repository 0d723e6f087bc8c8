"""Topic names and the delivery settings of the subscriptions that trigger the functions.

In Google Cloud, Terraform names topics ``<prefix>-<topic>`` and tells the functions the prefix
(``GUNJ_TOPIC_PREFIX``) and project (``GUNJ_PROJECT``); on the local stack the topics carry their
bare names in the emulator's project. The delivery settings below are the Terraform module's
defaults (``terraform/modules/gunj/variables.tf``; a deploy test keeps them equal), so
``gunj serve`` delivers events the way Google Cloud does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

SPECS = "platform-specs"
ALERTS = "platform-alerts"
CHECKS = "upgrade-checks"
EVENTS = "platform-events"
REPORTS = "upgrade-reports"
RESYNC = "resync-ticks"
TOPICS = (SPECS, ALERTS, CHECKS, EVENTS, REPORTS, RESYNC)
# Which topic triggers which function.
TRIGGERS = {"reconcile": SPECS, "rollback": ALERTS, "upgrades": CHECKS, "resync": RESYNC}

# Push subscriptions: the ack deadline is also the push request's timeout (at most 600 s).
ACK_DEADLINE_SECONDS = 600
MINIMUM_BACKOFF_SECONDS = 10
MAXIMUM_BACKOFF_SECONDS = 600
MAX_DELIVERY_ATTEMPTS = 10


@dataclass(frozen=True)
class Topics:
    project: str
    prefix: str = ""

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Topics:
        env = os.environ if env is None else env
        project = (
            env.get("GUNJ_PROJECT")
            or env.get("PUBSUB_PROJECT_ID")
            or env.get("GOOGLE_CLOUD_PROJECT")
            or ""
        )
        return cls(project, env.get("GUNJ_TOPIC_PREFIX", ""))

    def name(self, topic: str) -> str:
        return f"{self.prefix}-{topic}" if self.prefix else topic

    def path(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{self.name(topic)}"

    def dead_letter(self, topic: str) -> str:
        return self.path(f"{topic}-dead-letter")

"""The order of a reconcile on the local cluster, with Helm 3 and Helm 4: Prometheus, Loki and
Tempo are installed at the same time, Grafana (whose datasources point at them) only once all
three are installed and verified; one of the three that fails stops neither of the others nor
Grafana, and the outcome names it. What runs when is read from the engine's own Helm processes,
timed as they start and end."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from shared.helm import HelmClient
from shared.helm.releases import ReleaseState
from tests.engine_support import SMALL_PROMETHEUS, SMALL_TEMPO, Engine, platform

INDEPENDENT = ("obs-prometheus", "obs-loki", "obs-tempo")


@dataclass
class TimedHelm(HelmClient):
    """The engine's Helm client, remembering (verb, release, started, ended) of every process."""

    runs: list[tuple[str, str, float, float]] = field(default_factory=list)

    def run(self, args: Sequence[str], **kwargs: Any) -> str:
        started = time.monotonic()
        try:
            return super().run(args, **kwargs)
        finally:
            self.runs.append((args[0], args[1], started, time.monotonic()))


def timed(engine: Engine) -> TimedHelm:
    current = engine.reconciler.helm
    assert current is not None
    engine.reconciler.helm = TimedHelm(
        **{f.name: getattr(current, f.name) for f in fields(current)}
    )
    return engine.reconciler.helm


def test_the_three_install_at_the_same_time_and_grafana_after_all_three_are_verified(
    engine: Engine, namespace: str
) -> None:
    helm = timed(engine)
    # Prometheus' server takes 8 seconds to become ready: one after another, Loki could not
    # start before Prometheus' install (and its verification) had ended.
    slow = {"config": {"server": {"podAnnotations": {"gunj.io/ready-after": "8s"}}}}
    spec = platform(
        namespace, prometheus={**SMALL_PROMETHEUS, **slow}, loki={}, tempo=SMALL_TEMPO, grafana={}
    )

    outcome = engine.apply(spec)

    assert outcome.result == "ready", outcome
    assert [(c.component, c.actions) for c in outcome.components] == [
        (component, ("install", "verify"))
        for component in ("prometheus", "loki", "tempo", "grafana")
    ]
    assert list(engine.status(namespace).components) == ["prometheus", "loki", "tempo", "grafana"]
    installs = {
        release: (start, end) for verb, release, start, end in helm.runs if verb == "install"
    }
    prometheus_ended = installs["obs-prometheus"][1]
    assert installs["obs-loki"][0] < prometheus_ended
    assert installs["obs-tempo"][0] < prometheus_ended
    # Each of the three ends with its chart's Helm tests, the last step of its verification.
    tests = {release for verb, release, _, _ in helm.runs if verb == "test"}
    assert set(INDEPENDENT) <= tests
    grafana_began = min(start for _, release, start, _ in helm.runs if release == "obs-grafana")
    assert grafana_began >= max(end for _, release, _, end in helm.runs if release in INDEPENDENT)


def test_one_that_fails_stops_neither_the_other_two_nor_grafana_and_the_outcome_names_it(
    engine: Engine, namespace: str
) -> None:
    failing = {"chartVersion": "29.28.0-failing-install", "remediation": {"retries": 0}}
    spec = platform(
        namespace,
        prometheus={**SMALL_PROMETHEUS, **failing},
        loki={},
        tempo=SMALL_TEMPO,
        grafana={},
    )

    outcome = engine.apply(spec)

    assert outcome.result == "failed", outcome
    done = {c.component: c for c in outcome.components}
    assert list(done) == ["prometheus", "loki", "tempo", "grafana"]
    assert done["prometheus"].actions == ("install failed", "uninstall")
    assert "is invalid" in done["prometheus"].message
    for component in ("loki", "tempo", "grafana"):
        assert done[component].actions == ("install", "verify"), done[component]
        assert engine.release(namespace, f"obs-{component}").state is ReleaseState.DEPLOYED
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    status = engine.status(namespace)
    assert status.phase == "Failed"
    assert status.components["prometheus"].state == "Failed"
    assert {status.components[c].state for c in ("loki", "tempo", "grafana")} == {"InSync"}

"""The order of a pass: Prometheus, Loki and Tempo at the same time, Grafana after all three;
one that fails does not stop the others, and an error that ends the pass is the first in the
spec's order, raised once every component running beside it has finished."""

from __future__ import annotations

import threading
import time

import pytest

from shared.engine.passes import at_once, stages
from shared.values.spec.platform import COMPONENTS


def test_grafana_comes_after_the_three_it_points_at_which_share_a_stage() -> None:
    assert stages(COMPONENTS) == [["prometheus", "loki", "tempo"], ["grafana"]]
    assert stages(["tempo", "grafana"]) == [["tempo"], ["grafana"]]
    assert stages(["grafana"]) == [["grafana"]]


def test_the_work_of_one_stage_runs_at_the_same_time() -> None:
    # Each waits until all three have started: run one after another, the first would wait
    # forever (the barrier's timeout fails it).
    started = threading.Barrier(3, timeout=10)

    def component(name: str) -> str:
        started.wait()
        return name

    done = at_once({name: lambda name=name: component(name) for name in ("c", "a", "b")})

    assert list(done.items()) == [("c", "c"), ("a", "a"), ("b", "b")]


def test_an_error_is_raised_only_once_the_others_have_finished_and_the_first_in_order() -> None:
    finished: list[str] = []
    both_failed = threading.Barrier(2, timeout=10)

    def fails(name: str) -> str:
        both_failed.wait()
        raise RuntimeError(f"{name} failed")

    def slow() -> str:
        time.sleep(0.3)  # still working when both others have failed
        finished.append("loki")
        return "loki"

    with pytest.raises(RuntimeError, match="prometheus failed"):
        at_once(
            {
                "prometheus": lambda: fails("prometheus"),
                "loki": slow,
                "tempo": lambda: fails("tempo"),
            }
        )
    assert finished == ["loki"]

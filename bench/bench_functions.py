"""The functions' cold start and their own overhead around the engine.

    .venv/bin/python bench/bench_functions.py [--rounds 7] [--calls 50] [--cold 5]

1. Import time of each entry point (``functions/<name>/main.py``), the median of fresh
   interpreters, as a Cloud Function's cold start pays it before its first event.
2. The reconcile handler's own overhead (decode the event, validate the spec, find the cluster,
   publish the outcome to the Pub/Sub emulator, log) around the engine, for a spec already in
   sync: the handler's time minus the engine's, per call, on a warm instance.
3. A cold instance: a fresh functions-framework process serving ``functions/reconcile``, sent
   one Pub/Sub push (a CloudEvent, as Cloud Functions delivers it) for a platform already in
   sync on the local cluster, timed from the push sent to its outcome, against the goal of
   :data:`COLD_GOAL`; with the process's start until it listens, and where the event's time
   went (``cold_instance.py`` times the imports, the API requests and each step).

Needs the local stack (started or reused). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from shared.clusters import current_context_of  # noqa: E402
from shared.engine.reconciler import Reconciler  # noqa: E402
from shared.handlers import topics  # noqa: E402
from shared.kube import ClusterAccess  # noqa: E402
from shared.localstack import serving  # noqa: E402
from shared.localstack import stack as localstack  # noqa: E402
from shared.localstack.processes import free_port  # noqa: E402

NAMESPACE = "bench-functions"
SPEC = {
    "apiVersion": "observability.io/v1beta1",
    "kind": "ObservabilityPlatform",
    "metadata": {"name": "bench", "namespace": NAMESPACE},
    "spec": {
        "prometheus": {
            "chartVersion": "29.27.0",
            "storage": {"enabled": False},
            "alertmanager": {"enabled": False},
            "nodeExporter": {"enabled": False},
            "kubeStateMetrics": {"enabled": False},
        }
    },
}


COLD_GOAL = 0.400
"""A cold instance's first event, from the push sent to its outcome, in seconds."""
# What each of cold_instance.py's intervals counts as, the first in this order that covers an
# instant taking it: an import inside a request counts as import.
STEPS = {
    "import": "import (modules loaded on the first event)",
    "request": "cluster reads (API requests, waited for)",
    "kubeconfig": "cluster connection (kubeconfig, API client)",
    "report": "publish of the outcome (and its log line)",
    "reconciler": "cluster connection (registry, reconciler)",
    "apply": "decision (the engine's own work)",
    "handle": "handler (decode, read and validate the spec)",
}
FRAMEWORK = "functions-framework and HTTP"


def import_times(rounds: int) -> dict[str, float]:
    found = {}
    for function in ("reconcile", "rollback", "upgrades"):
        folder = ROOT / "functions" / function
        samples = []
        for _ in range(rounds):
            code = (
                f"import sys, time; sys.path.insert(0, {str(folder)!r}); "
                "started = time.perf_counter(); import main; "
                "print(time.perf_counter() - started)"
            )
            result = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            samples.append(float(result.stdout.strip().splitlines()[-1]))
        found[function] = statistics.median(samples)
    return found


class _Event:
    """What functions-framework hands the function: a CloudEvent's attributes and data."""

    def __init__(self, message_id: str, data: bytes, attributes: dict[str, str]) -> None:
        self._attributes = {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/gunj-local/topics/platform-specs",
            "id": message_id,
        }
        self.data = {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": attributes,
                "messageId": message_id,
            }
        }

    def get_attributes(self) -> dict[str, Any]:
        return self._attributes


def handler_overhead(running: localstack.Stack, calls: int) -> tuple[float, float, float]:
    """(median handler time, median engine time, median overhead), in seconds."""
    with tempfile.TemporaryDirectory() as folder:
        registry = Path(folder) / "clusters.yaml"
        registry.write_text(
            yaml.safe_dump(
                {
                    "local": {
                        "kubeconfig": str(running.kubeconfig),
                        "context": current_context_of(running.kubeconfig),
                    }
                }
            )
        )
        env = serving.function_environment(running, {"GUNJ_CLUSTERS": str(registry)})
        os.environ.update(env)
        serving.ensure_topics(running, topics.Topics(running.pubsub_project))
        from shared.handlers import reconcile

        engine_times: list[float] = []
        original = Reconciler.apply

        def timed(self: Reconciler, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                engine_times.append(time.perf_counter() - started)

        Reconciler.apply = timed  # type: ignore[method-assign]
        data = yaml.safe_dump(SPEC).encode()
        # Message ids of this run only: a platform left by an earlier run has seen "bench-0".
        run = uuid.uuid4().hex[:8]
        first = _Event(f"bench-{run}-0", data, {"cluster": "local"})
        with contextlib.redirect_stdout(io.StringIO()):
            outcome = reconcile.handle(first, env)  # installs, and warms the instance
        if outcome["result"] != "ready":
            raise SystemExit(f"the platform did not come up: {outcome}")
        engine_times.clear()
        totals = []
        with contextlib.redirect_stdout(io.StringIO()):
            for call in range(1, calls + 1):
                started = time.perf_counter()
                reconcile.handle(_Event(f"bench-{run}-{call}", data, {"cluster": "local"}), env)
                totals.append(time.perf_counter() - started)
        overheads = [total - engine for total, engine in zip(totals, engine_times, strict=True)]
        return (
            statistics.median(totals),
            statistics.median(engine_times),
            statistics.median(overheads),
        )


def _registry(running: localstack.Stack, folder: Path) -> Path:
    registry = folder / "clusters.yaml"
    registry.write_text(
        yaml.safe_dump(
            {
                "local": {
                    "kubeconfig": str(running.kubeconfig),
                    "context": current_context_of(running.kubeconfig),
                }
            }
        )
    )
    return registry


def _push_body(message_id: str, data: bytes, attributes: dict[str, str]) -> bytes:
    """What a Pub/Sub push subscription posts (functions-framework makes a CloudEvent of it)."""
    return json.dumps(
        {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": attributes,
                "messageId": message_id,
                "publishTime": "2026-11-25T00:00:00Z",
            },
            "subscription": "projects/gunj-local/subscriptions/bench",
        }
    ).encode()


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.05):
        return True
    return False


def _exclusive(intervals: list[dict[str, Any]], start: float, end: float) -> dict[str, float]:
    """Seconds of [start, end] each step took: each instant goes to the first step of STEPS
    that covers it, an instant none covers to the framework."""
    order = list(STEPS)
    inside = [i for i in intervals if i["end"] > start and i["start"] < end]
    points = sorted(
        {start, end, *(max(start, min(end, t)) for i in inside for t in (i["start"], i["end"]))}
    )
    spent = dict.fromkeys([*order, FRAMEWORK], 0.0)
    for left, right in itertools.pairwise(points):
        middle = (left + right) / 2
        covering = {i["what"] for i in inside if i["start"] <= middle < i["end"]}
        step = next((what for what in order if what in covering), FRAMEWORK)
        spent[step] += right - left
    return spent


@contextlib.contextmanager
def _cold_process(
    env: dict[str, str], folder: Path, round_: int
) -> Iterator[tuple[int, Path, Path, float]]:
    """A fresh functions-framework process serving the reconcile function: its port, its
    timings and log files, and the seconds from its start until it listened."""
    port = free_port()
    timings = folder / f"timings-{round_}.jsonl"
    log = folder / f"function-{round_}.log"
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "cold_instance.py"),
                str(timings),
                "--",
                f"--source={ROOT / 'functions' / 'reconcile' / 'main.py'}",
                "--target=reconcile",
                "--signature-type=cloudevent",
                "--host=127.0.0.1",
                f"--port={port}",
            ],
            env=env,
            cwd=ROOT / "functions",
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        while not _listening(port):
            if process.poll() is not None:
                raise SystemExit(f"the function did not start: {log.read_text()[-2000:]}")
            time.sleep(0.005)
        yield port, timings, log, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def cold_instances(running: localstack.Stack, rounds: int) -> list[dict[str, float]]:
    """Per round: ready (start until listening), total (push sent to outcome) and the
    seconds of each step, of a fresh process's first event for a platform in sync."""
    found = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = serving.function_environment(
            running,
            {"GUNJ_CLUSTERS": str(_registry(running, folder)), "GUNJ_CACHE_DIR": str(folder)},
        )
        data = yaml.safe_dump(SPEC).encode()
        for round_ in range(rounds):
            with _cold_process(env, folder, round_) as (port, timings, log, ready):
                message_id = f"cold-{uuid.uuid4().hex[:12]}"
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/",
                    data=_push_body(message_id, data, {"cluster": "local"}),
                    headers={"Content-Type": "application/json"},
                )
                sent = time.time()
                with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
                    answer.read()
                answered = time.time()
            outcome = next(
                json.loads(line)
                for line in log.read_text().splitlines()
                if line.startswith("{") and message_id in line
            )
            if outcome.get("result") != "ready":
                raise SystemExit(f"the cold instance's outcome is not ready: {outcome}")
            intervals = [json.loads(line) for line in timings.read_text().splitlines()]
            spent = _exclusive(intervals, sent, answered)
            found.append({"ready": ready, "total": answered - sent, **spent})
            if round_ == 0:
                _print_first(intervals, sent, answered)
    return found


def _print_first(intervals: list[dict[str, Any]], start: float, end: float) -> None:
    """The first cold event's outermost imports, by package, and its requests."""
    imports = sorted(
        (i for i in intervals if i["what"] == "import" and start <= i["start"] < end),
        key=lambda i: (i["start"], -i["end"]),
    )
    outermost: list[dict[str, Any]] = []
    for interval in imports:
        if not outermost or interval["start"] >= outermost[-1]["end"]:
            outermost.append(interval)
    by_package: dict[str, float] = {}
    for interval in outermost:
        package = ".".join(str(interval["detail"]).split(".")[:2])
        by_package[package] = by_package.get(package, 0.0) + interval["end"] - interval["start"]
    print("\nfirst cold event: modules imported, by package (ms)")
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1])[:12]:
        print(f"  {package:<40} {seconds * 1000:7.0f}")
    print("first cold event: API requests (ms)")
    for interval in intervals:
        if interval["what"] == "request" and start <= interval["start"] < end:
            print(f"  {interval['detail']:<70} {(interval['end'] - interval['start']) * 1000:6.0f}")


def _print_cold(rounds: list[dict[str, float]]) -> None:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    total = median("total")
    print(
        f"\ncold instance, first event for a platform in sync ({len(rounds)} fresh "
        "processes, medians):"
    )
    print(f"  process start until it listens  {median('ready') * 1000:7.0f} ms")
    verdict = "within" if total <= COLD_GOAL else "over"
    each = ", ".join(f"{r['total'] * 1000:.0f}" for r in rounds)
    print(
        f"  push sent to outcome            {total * 1000:7.0f} ms   goal "
        f"{COLD_GOAL * 1000:.0f} ms: {verdict}  (each: {each})"
    )
    for step, words in [*STEPS.items(), (FRAMEWORK, FRAMEWORK)]:
        print(f"    {words:<48} {median(step) * 1000:7.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--cold", type=int, default=5, help="fresh processes for the cold instance")
    arguments = parser.parse_args()
    running = localstack.up()
    print(f"entry point import time (median of {arguments.rounds} fresh interpreters):")
    for function, seconds in import_times(arguments.rounds).items():
        print(f"  functions/{function}/main.py  {seconds * 1000:7.1f} ms")
    try:
        total, engine, overhead = handler_overhead(running, arguments.calls)
        cold = cold_instances(running, arguments.cold) if arguments.cold else []
    finally:  # the platform the handler installed, not left behind
        ClusterAccess(running.kubeconfig).delete_namespace(NAMESPACE)
    print(f"\nreconcile handler, spec already in sync ({arguments.calls} calls, medians):")
    print(f"  whole handler                 {total * 1000:7.2f} ms")
    print(f"  engine (Reconciler.apply)     {engine * 1000:7.2f} ms")
    print(
        f"  the handler's own overhead    {overhead * 1000:7.2f} ms  (decode, validate, "
        "find the cluster, publish the outcome, log)"
    )
    if cold:
        _print_cold(cold)


if __name__ == "__main__":
    main()

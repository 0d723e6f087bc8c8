"""The functions' cold start and their own overhead around the engine.

    .venv/bin/python bench/bench_functions.py [--rounds 7] [--calls 50]

1. Import time of each entry point (``functions/<name>/main.py``), the median of fresh
   interpreters, as a Cloud Function's cold start pays it before its first event.
2. The reconcile handler's own overhead (decode the event, validate the spec, find the cluster,
   publish the outcome to the Pub/Sub emulator, log) around the engine, for a spec already in
   sync: the handler's time minus the engine's, per call, on a warm instance.

Needs the local stack (started or reused). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=50)
    arguments = parser.parse_args()
    running = localstack.up()
    print(f"entry point import time (median of {arguments.rounds} fresh interpreters):")
    for function, seconds in import_times(arguments.rounds).items():
        print(f"  functions/{function}/main.py  {seconds * 1000:7.1f} ms")
    try:
        total, engine, overhead = handler_overhead(running, arguments.calls)
    finally:  # the platform the handler installed, not left behind
        ClusterAccess(running.kubeconfig).delete_namespace(NAMESPACE)
    print(f"\nreconcile handler, spec already in sync ({arguments.calls} calls, medians):")
    print(f"  whole handler                 {total * 1000:7.2f} ms")
    print(f"  engine (Reconciler.apply)     {engine * 1000:7.2f} ms")
    print(
        f"  the handler's own overhead    {overhead * 1000:7.2f} ms  (decode, validate, "
        "find the cluster, publish the outcome, log)"
    )


if __name__ == "__main__":
    main()

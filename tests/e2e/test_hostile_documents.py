"""Hostile documents through the real functions, each limited to the functions' memory (1 GiB
of address space): spec messages through the reconcile function and alerts through the
rollback function (functions-framework, fed by the Pub/Sub emulator), alert bodies through the
alertmanager HTTP function, and specs through ``gunj validate``. Each ends ``invalid`` (400 for
the webhook, exit 1 for the CLI) naming where, quoting nothing of the document and never as a
transient error; the process that read it is still the same process, and reading it added less
than 256 MiB to its memory. What each item cost is printed (pytest -s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from shared.clusters.alerttokens import mint, token_hash
from shared.localstack import serving
from shared.localstack.stack import Stack
from tests.e2e.harness import ServedFunction, registry_file, served_function
from tests.hostile import (
    FUNCTION_MEMORY,
    MESSAGE_MEMORY,
    SECRET,
    Hostile,
    alerts,
    figures,
    generations,
    limit_memory,
    named,
    peak_rss,
    process_tree,
    reset_peak,
    specs,
)

TOKEN = mint()
"""The webhook's token, listed for ``local`` in the rollback function's registry."""


def _worker(served: ServedFunction) -> tuple[int, int]:
    """(functions-framework's process, the worker that runs the function), both limited."""
    main = served.daemon.pid()
    assert main is not None
    tree = limit_memory(main)
    return main, tree[-1]


@pytest.fixture
def reconcile(local_stack: Stack, tmp_path: Path) -> Iterator[ServedFunction]:
    clusters = registry_file(local_stack, tmp_path)
    with served_function(
        "reconcile", local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
    ) as served:
        yield served


@pytest.fixture
def rollback(local_stack: Stack, tmp_path: Path) -> Iterator[ServedFunction]:
    clusters = registry_file(local_stack, tmp_path)
    entries = yaml.safe_load(clusters.read_text())
    entries["local"]["alertTokens"] = [token_hash(TOKEN)]
    clusters.write_text(yaml.safe_dump(entries))
    with served_function(
        "rollback", local_stack, tmp_path, helm=local_stack.helm[3], clusters=clusters
    ) as served:
        yield served


def _refused_once(served: ServedFunction, item: Hostile, message_id: str) -> dict[str, object]:
    outcome = served.final(message_id, timeout=120)
    mine = [e for e in served.received if e.get("message_id") == message_id]
    assert all(not e["transient"] for e in mine), (item.name, mine)
    assert outcome["result"] == "invalid", (item.name, outcome)
    assert item.where in str(outcome["message"]), (item.name, outcome["message"])
    assert SECRET not in json.dumps(outcome)
    return outcome


def test_hostile_specs_end_invalid_naming_where_in_the_functions_memory(
    reconcile: ServedFunction,
) -> None:
    main, worker = _worker(reconcile)
    rows = []
    for item in [*specs(), *generations(), *named()]:
        before = reset_peak(worker)
        attributes = {"cluster": "local", "source": "hostile", **item.attributes}
        outcome = _refused_once(reconcile, item, reconcile.publish(item.data, **attributes))
        rows.append((item.name, float(str(outcome["duration"])), peak_rss(worker)))
        assert process_tree(main)[-1] == worker, f"the worker was replaced after {item.name}"
        assert peak_rss(worker) - before < MESSAGE_MEMORY, item.name
    print("\nreconcile function, per message (handler's duration, worker's peak RSS):")
    print(figures(rows))


def test_hostile_alerts_end_invalid_through_pubsub_and_http_in_the_functions_memory(
    rollback: ServedFunction,
) -> None:
    main, worker = _worker(rollback)
    rows = []
    for item in alerts():
        before = reset_peak(worker)
        _refused_once(rollback, item, rollback.publish(item.data))
        rows.append((item.name, peak_rss(worker)))
        assert process_tree(main)[-1] == worker, f"the worker was replaced after {item.name}"
        assert peak_rss(worker) - before < MESSAGE_MEMORY, item.name
    print("\nrollback function, per message (worker's peak RSS):")
    for name, peak in rows:
        print(f"  {name:<35} {peak / 2**20:7.1f} MiB")

    env = dict(rollback.env)
    daemon, port = serving.start_function(
        serving.ALERTMANAGER, rollback.folder / "webhook", env, signature="http"
    )
    try:
        pid = daemon.pid()
        assert pid is not None
        tree = limit_memory(pid)
        print("alertmanager function, per request (wall time, worker's peak RSS):")
        for item in alerts():
            before = reset_peak(tree[-1])
            started = time.monotonic()
            status, answer = _post(f"http://127.0.0.1:{port}/", item.data)
            elapsed = time.monotonic() - started
            print(f"  {item.name:<35} {elapsed:7.3f} s {peak_rss(tree[-1]) / 2**20:7.1f} MiB")
            assert status == 400, (item.name, status, answer)
            assert item.where in str(answer["error"]) and SECRET not in json.dumps(answer)
            assert process_tree(pid)[-1] == tree[-1], f"the worker was replaced: {item.name}"
            assert peak_rss(tree[-1]) - before < MESSAGE_MEMORY, item.name
    finally:
        daemon.stop()


def _post(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - the function on 127.0.0.1
        url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read() or b"{}")


# ``gunj`` as its console script runs it, reporting its own peak memory when it ends: a child's
# ru_maxrss counts the memory of the process it was forked from, and that is pytest's.
GUNJ = """
import atexit, pathlib, sys
from shared.cli.main import main
def peak():
    status = pathlib.Path("/proc/self/status").read_text()
    line = next(l for l in status.splitlines() if l.startswith("VmHWM:"))
    pathlib.Path(sys.argv[1]).write_text(line.split()[1])
atexit.register(peak)
sys.exit(main(sys.argv[2:]))
"""


def test_gunj_validate_refuses_each_hostile_spec_in_the_functions_memory(tmp_path: Path) -> None:
    rows = []
    for index, item in enumerate(specs()):
        path = tmp_path / f"hostile-{index}.yaml"
        path.write_bytes(item.data)
        peak = tmp_path / f"hostile-{index}.peak"
        # util-linux's prlimit, not preexec_fn: Python between fork and exec is unsafe in a
        # process that may hold gRPC's threads.
        limited = ["prlimit", f"--as={FUNCTION_MEMORY}", sys.executable, "-c", GUNJ]
        started = time.monotonic()
        result = subprocess.run(
            [*limited, str(peak), "validate", str(path)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            timeout=120,
        )
        elapsed = time.monotonic() - started
        printed = result.stdout + result.stderr
        rows.append((item.name, elapsed, int(peak.read_text()) * 1024))
        assert result.returncode == 1, (item.name, printed)
        assert item.where in printed and SECRET not in printed, (item.name, printed)
        assert "Traceback" not in printed and "MemoryError" not in printed
        assert rows[-1][2] < MESSAGE_MEMORY, item.name  # the whole command, start-up included
    print(f"\ngunj validate (wall time with start-up, peak RSS; address space {FUNCTION_MEMORY}):")
    print(figures(rows))

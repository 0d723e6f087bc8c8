"""Thousands of generated documents through the reconcile handler, in a child process given the
functions' memory (1 GiB of address space): token soup of YAML (tags, anchors, aliases, merge
keys, duplicate keys, flow and block nesting), JSON nested at random depths, and valid specs
with bytes changed. Every message ends with a permanent outcome (``invalid``, or ``refused``
for a valid spec to a cluster the empty registry does not know), never a transient one, and
never quoting the secret the documents hold. What the slowest message took and the child's
peak memory are printed (pytest -s).

The handler, its reporting and its publisher are the real ones; the Pub/Sub client records what
it is given (the functions publish to the real emulator in tests/e2e/test_hostile_documents.py).
"""

from __future__ import annotations

import base64
import json
import os
import resource
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.handlers import outcomes, reconcile
from shared.handlers.outcomes import Publisher
from shared.handlers.topics import Topics
from tests.hostile import FUNCTION_MEMORY, GOOD_SPEC, SECRET, peak_rss

ENV = {"GUNJ_PROJECT": "p", "GUNJ_TOPIC_PREFIX": "t", "GUNJ_CLUSTER_REGISTRY": "{}"}
EXAMPLES = 3000

TOKENS = [
    "\n", "\n", "  ", "    ", "- ", "k: ", "spec: ", "prometheus: ", "config: ", "replicas: ",
    f"k: {SECRET}\n", f"- {SECRET}\n", "&a ", "&b ", "*a", "*b", "<<: *a\n", "<<: ", "[", "]",
    "{", "}", ", ", ": ", "'", '"', "? ", "|\n", ">\n", "#", "---\n", "...\n", "%YAML 1.1\n",
    "!!binary aGk=", "!!python/object:os.system x", "!!set {a}", "!!omap [a: 1]", "!x ",
    "!<tag:x> ", "!!str ", "!!int 1", "!!float 1.5", "2024-01-01", "yes", "~", ".inf", ".nan",
    "0x1F", "0o17", "1_000", "9" * 60, "1e999", "\t", "\\", "\x00", "\ufeff", "\u2028",
    "!!bool ", "!!int ", "!!float ", "!!null ", "!!str ", "!!map ", "!!seq ",
    "x", "1", "true", "null",
]  # fmt: skip

yaml_soup = st.lists(st.sampled_from(TOKENS), max_size=80).map(lambda t: "".join(t).encode())
json_nesting = st.builds(
    lambda depth, key, close: (
        f'{{"{key}": ' * depth + f'"{SECRET}"' + "}" * (depth if close else depth // 2)
    ).encode(),
    st.integers(0, 3000),
    st.sampled_from(["spec", "a", "a"]),
    st.booleans(),
)
mutated_spec = st.builds(
    lambda position, inserted: (
        GOOD_SPEC[: position % len(GOOD_SPEC)] + inserted + GOOD_SPEC[position % len(GOOD_SPEC) :]
    ),
    st.integers(0, 10_000),
    st.sampled_from([t.encode() for t in TOKENS]) | st.binary(max_size=8),
)
documents = yaml_soup | json_nesting | mutated_spec | st.binary(max_size=200)


class RecordingPubSub:
    """A Pub/Sub publisher client that keeps what is published."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, topic: str, data: bytes, **attributes: str) -> Future[str]:
        self.published.append(json.loads(data))
        done: Future[str] = Future()
        done.set_result(str(len(self.published)))
        return done


def event(data: bytes, number: int) -> CloudEvent:
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/t-platform-specs",
            "id": str(number),
        },
        {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": {"cluster": "local", "generation": str(number % 7 + 1)},
                "messageId": str(number),
            },
            "subscription": "s",
        },
    )


def in_limited_child(target: Callable[[], str]) -> tuple[int, str]:
    """Run ``target`` in a forked child with the functions' address space; (exit code, what it
    returned or its traceback)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (FUNCTION_MEMORY, FUNCTION_MEMORY))
            text = target()
        except BaseException:
            text, code = traceback.format_exc(), 1
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(text)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), text


def test_generated_documents_end_permanent_through_the_handler_in_the_functions_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = RecordingPubSub()
    publisher = Publisher(Topics.from_environment(ENV))
    publisher._client = client
    monkeypatch.setitem(outcomes._PUBLISHERS, publisher.topics, publisher)
    monkeypatch.setenv("GUNJ_CACHE_DIR", str(tmp_path / "cache"))
    slowest: list[float] = [0.0]
    results: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=documents, number=st.integers(0, 10**6))
    def check(data: bytes, number: int) -> None:
        started = time.perf_counter()
        document = reconcile.handle(event(data, number), ENV)
        slowest[0] = max(slowest[0], time.perf_counter() - started)
        results[document["result"]] = results.get(document["result"], 0) + 1
        assert document["result"] in {"invalid", "refused"}, document
        assert not document["transient"], document
        assert document["message"] and SECRET not in json.dumps(document), document

    def run() -> str:
        check()
        return json.dumps(
            {
                "slowest_seconds": round(slowest[0], 4),
                "peak_rss_mib": round(peak_rss(os.getpid()) / 2**20, 1),
                "results": results,
            }
        )

    code, text = in_limited_child(run)

    assert code == 0, text
    figures = json.loads(text)
    assert sum(figures["results"].values()) >= EXAMPLES
    print(f"\n{EXAMPLES} generated documents through reconcile.handle: {text}")

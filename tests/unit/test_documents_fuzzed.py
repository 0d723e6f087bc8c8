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
import multiprocessing
import os
import resource
import time
import traceback
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

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


def fuzz(cache: str) -> str:
    """Every generated document through the real handler, in this process given the functions'
    memory; the figures as JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (FUNCTION_MEMORY, FUNCTION_MEMORY))
    os.environ["GUNJ_CACHE_DIR"] = cache
    publisher = Publisher(Topics.from_environment(ENV))
    publisher._client = RecordingPubSub()
    outcomes._PUBLISHERS[publisher.topics] = publisher
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

    check()
    return json.dumps(
        {
            "slowest_seconds": round(slowest[0], 4),
            "peak_rss_mib": round(peak_rss(os.getpid()) / 2**20, 1),
            "results": results,
        }
    )


def _child(cache: str, answer: Connection) -> None:
    try:
        answer.send((0, fuzz(cache)))
    except BaseException:
        answer.send((1, traceback.format_exc()))
    answer.close()


def test_generated_documents_end_permanent_through_the_handler_in_the_functions_memory(
    tmp_path: Path,
) -> None:
    # A fresh interpreter, not a fork: the test process may hold gRPC's threads (other tests'
    # clients), which a forked child inherits broken.
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    child = spawn.Process(target=_child, args=(str(tmp_path / "cache"), send))
    child.start()
    send.close()
    try:
        code, text = receive.recv()
    except EOFError:  # it died without a word
        code, text = -1, "the child ended without an answer"
    child.join()

    assert (code, child.exitcode) == (0, 0), text
    figures = json.loads(text)
    assert sum(figures["results"].values()) >= EXAMPLES
    print(f"\n{EXAMPLES} generated documents through reconcile.handle: {text}")

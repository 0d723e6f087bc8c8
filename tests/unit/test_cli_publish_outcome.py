"""`gunj publish --wait` (and `gunj local demo`) end on the outcome the reconcile function
publishes, and exit as `gunj apply` does for that same outcome: the documents here are built by
the real Outcome.to_json(), as the function publishes them."""

from __future__ import annotations

from typing import Any, cast, get_args

import pytest

from shared.cli.pubsub import Followed
from shared.engine.outcome import Outcome, Result

RESULTS: tuple[str, ...] = get_args(Result)


def published(result: str, *, transient_error: bool = False) -> dict[str, Any]:
    outcome = Outcome(cast(Result, result), f"{result} happened", transient_error=transient_error)
    document = outcome.to_json()
    document["message_id"] = "m-1"
    return document


def followed(*documents: dict[str, Any]) -> Followed:
    return Followed("m-1", waited=True, events=list(documents))


@pytest.mark.parametrize("result", RESULTS)
def test_waiting_exits_with_the_outcomes_own_exit_code(result: str) -> None:
    outcome = Outcome(cast(Result, result), "")
    seen = followed(published(result))

    if outcome.transient:
        assert seen.final is None
    else:
        assert seen.final is not None and seen.final["result"] == result
    assert seen.exit_code == outcome.exit_code


def test_an_ignored_outcome_is_done() -> None:
    assert followed(published("ignored")).exit_code == 0


def test_a_permanent_error_ends_the_wait_as_a_permanent_problem() -> None:
    seen = followed(published("error", transient_error=False))

    assert seen.final is not None
    assert seen.exit_code == 1


def test_a_transient_error_keeps_waiting_and_times_out_as_transient() -> None:
    seen = followed(published("error", transient_error=True))

    assert seen.final is None
    assert seen.exit_code == 3


def test_progress_then_the_final_outcome_decides() -> None:
    seen = followed(published("progressing"), published("deferred"), published("ready"))

    assert seen.final is not None and seen.final["result"] == "ready"
    assert seen.exit_code == 0


def test_waiting_with_no_outcome_at_all_is_transient() -> None:
    assert followed().exit_code == 3


def test_publishing_without_waiting_succeeds() -> None:
    assert Followed("m-1").exit_code == 0

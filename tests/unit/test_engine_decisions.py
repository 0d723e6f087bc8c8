"""Classification and decision, as a table over observed releases and status records: each row
is a situation a reconcile meets, and the one action (or none) the engine takes about it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.engine.action import Action
from shared.engine.budget import operation_budget
from shared.engine.classify import Finding, classify
from shared.engine.decide import decide
from shared.engine.desired import DesiredRelease
from shared.engine.live.state import DriftedObject, LiveState
from shared.engine.quarantine import Held
from shared.helm.models import ReleaseStatus
from shared.helm.releases import ObservedRelease, ReleaseState
from shared.helm.runner import Runner
from shared.kube.keys import ObjectKey
from shared.values.spec import PrometheusSpec
from shared.values.spec.status import ComponentStatus

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DEPLOYED_AT = NOW - timedelta(hours=1)
OURS = ({"gunj.io/platform": "obs", "gunj.io/desired": "want"},)
HELM_HERE = Runner("0123456789abcdef0123", 4242, 987654)


def desired(
    retries: int = 1, strategy: str = "rollback", version: str = "29.27.0"
) -> DesiredRelease:
    spec = PrometheusSpec.model_validate(
        {"remediation": {"retries": retries, "strategy": strategy}}
    )
    return DesiredRelease(
        component="prometheus",
        release="obs-prometheus",
        namespace="monitoring",
        repository="https://prometheus-community.github.io/helm-charts",
        chart="prometheus",
        version=version,
        app_version="",
        values={},
        digest="want",
        budget=operation_budget(spec),
        spec=spec,
    )


def observed(state: ReleaseState = ReleaseState.DEPLOYED, **fields: Any) -> ObservedRelease:
    base = ObservedRelease(
        name="obs-prometheus",
        namespace="monitoring",
        state=state,
        status={
            ReleaseState.DEPLOYED: ReleaseStatus.DEPLOYED,
            ReleaseState.FAILED: ReleaseStatus.FAILED,
            ReleaseState.LOCKED: ReleaseStatus.PENDING_UPGRADE,
            ReleaseState.ABSENT: None,
        }[state],
        revision=None if state is ReleaseState.ABSENT else 3,
        chart="prometheus",
        chart_version="29.27.0",
        desired_digest="want",
        content_digest="want",
        deployed_at=DEPLOYED_AT,
        label_history=() if state is ReleaseState.ABSENT else OURS,
    )
    return replace(base, **fields)


def record(**fields: Any) -> ComponentStatus:
    base = {
        "mode": "helm",
        "revision": 3,
        "deployedAt": DEPLOYED_AT,
        "valuesDigest": "want",
        "verifiedRevision": 3,
        "tested": True,
        "lastGoodRevision": 2,
        "lastGoodDigest": "old",
    }
    return ComponentStatus.model_validate({**base, **fields})


CASES = [
    # (what, desired, observed, record, state, action, outcome)
    ("in sync and verified", desired(), observed(), record(), Finding.IN_SYNC, None, "InSync"),
    (
        "not verified yet",
        desired(),
        observed(),
        record(verifiedRevision=None),
        Finding.UNVERIFIED,
        Action.VERIFY,
        "Progressing",
    ),
    (
        "verified, but an older deployment with the same number",
        desired(),
        observed(deployed_at=NOW),
        record(),
        Finding.UNVERIFIED,
        Action.VERIFY,
        "Progressing",
    ),
    (
        "absent",
        desired(),
        observed(ReleaseState.ABSENT),
        None,
        Finding.ABSENT,
        Action.INSTALL,
        "Progressing",
    ),
    (
        "absent after spent retries",
        desired(retries=0),
        observed(ReleaseState.ABSENT),
        record(failures=1, attemptedDigest="want"),
        Finding.ABSENT,
        None,
        "Failed",
    ),
    (
        "spec changed",
        desired(),
        observed(content_digest="old", desired_digest="old"),
        record(valuesDigest="old"),
        Finding.OUT_OF_SYNC,
        Action.UPGRADE,
        "Progressing",
    ),
    (
        "changed by hand: the label lies",
        desired(),
        observed(content_digest="hand"),
        record(),
        Finding.DRIFTED,
        Action.UPGRADE,
        "Progressing",
    ),
    (
        "failures of another digest do not count",
        desired(retries=0),
        observed(content_digest="old", desired_digest="old"),
        record(valuesDigest="old", failures=5, attemptedDigest="earlier"),
        Finding.OUT_OF_SYNC,
        Action.UPGRADE,
        "Progressing",
    ),
    (
        "spent on this digest, what runs verified",
        desired(retries=0),
        observed(content_digest="old", desired_digest="old"),
        record(valuesDigest="old", failures=1, attemptedDigest="want"),
        Finding.OUT_OF_SYNC,
        None,
        "Stalled",
    ),
    (
        "spent on this digest, restored revision unverified",
        desired(retries=0),
        observed(content_digest="old", desired_digest="old", revision=4),
        record(valuesDigest="old", failures=1, attemptedDigest="want"),
        Finding.OUT_OF_SYNC,
        Action.VERIFY,
        "Progressing",
    ),
    (
        "failed upgrade: roll back to the last good revision",
        desired(),
        observed(ReleaseState.FAILED, content_digest="want"),
        record(),
        Finding.FAILED,
        Action.ROLLBACK,
        "Failed",
    ),
    (
        "failed with strategy uninstall",
        desired(strategy="uninstall"),
        observed(ReleaseState.FAILED),
        record(),
        Finding.FAILED,
        Action.UNINSTALL,
        "Failed",
    ),
    (
        "failed first install: no good revision",
        desired(),
        observed(ReleaseState.FAILED, revision=1, first_install=True),
        None,
        Finding.FAILED,
        Action.UNINSTALL,
        "Failed",
    ),
    (
        "verification failed",
        desired(),
        observed(),
        record(tested=False),
        Finding.VERIFY_FAILED,
        Action.ROLLBACK,
        "Failed",
    ),
    (
        "the last good revision itself fails verification",
        desired(),
        observed(content_digest="want"),
        record(tested=False, lastGoodDigest="want"),
        Finding.VERIFY_FAILED,
        None,
        "Stalled",
    ),
    (
        "locked, its Helm may still run",
        desired(),
        observed(ReleaseState.LOCKED, deadline=NOW + timedelta(minutes=1)),
        record(),
        Finding.LOCKED,
        None,
        "Locked",
    ),
    (
        "locked past its recorded deadline",
        desired(),
        observed(ReleaseState.LOCKED, deadline=NOW - timedelta(seconds=1)),
        record(),
        Finding.STALE_LOCK,
        Action.UNLOCK,
        "Progressing",
    ),
    (
        "locked, the Helm process that wrote it ran here and has exited, long before its deadline",
        desired(),
        observed(
            ReleaseState.LOCKED,
            deadline=NOW + timedelta(minutes=5),
            runner=HELM_HERE,
            runner_exited=True,
        ),
        record(),
        Finding.STALE_LOCK,
        Action.UNLOCK,
        "Progressing",
    ),
    (
        "locked, the Helm process that wrote it may still run (here or elsewhere)",
        desired(),
        observed(ReleaseState.LOCKED, deadline=NOW + timedelta(minutes=5), runner=HELM_HERE),
        record(),
        Finding.LOCKED,
        None,
        "Locked",
    ),
    (
        "locked by someone without a deadline, recently",
        desired(),
        observed(ReleaseState.LOCKED, locked_for=timedelta(minutes=2)),
        record(),
        Finding.LOCKED,
        None,
        "Locked",
    ),
    (
        "locked by someone without a deadline, long ago",
        desired(),
        observed(ReleaseState.LOCKED, locked_for=timedelta(hours=1)),
        record(),
        Finding.STALE_LOCK,
        Action.UNLOCK,
        "Progressing",
    ),
    (
        "quarantined version asked for",
        desired(version="29.28.0"),
        observed(content_digest="old", desired_digest="old"),
        record(valuesDigest="old"),
        Finding.QUARANTINED,
        None,
        "Held",
    ),
    (
        "disabled, installed by gunj",
        None,
        observed(),
        record(),
        Finding.UNWANTED,
        Action.UNINSTALL,
        "Progressing",
    ),
    (
        "disabled, not installed",
        None,
        observed(ReleaseState.ABSENT),
        None,
        Finding.GONE,
        None,
        "Removed",
    ),
    (
        "a release of that name gunj never made",
        desired(),
        observed(label_history=({},)),
        None,
        Finding.FOREIGN,
        None,
        "Stalled",
    ),
    (
        "disabled, and a release gunj never made",
        None,
        observed(label_history=({},)),
        None,
        Finding.GONE,
        None,
        "Removed",
    ),
]


@pytest.mark.parametrize(
    ("wanted", "seen", "known", "state", "action", "outcome"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_situation_leads_to_one_action(
    wanted: DesiredRelease | None,
    seen: ObservedRelease,
    known: ComponentStatus | None,
    state: Finding,
    action: Action | None,
    outcome: str,
) -> None:
    classification = classify(
        wanted, seen, known, platform="obs", held=Held(frozenset({"29.28.0"})), now=NOW
    )
    decision = decide(classification, wanted, seen, known)

    assert classification.finding is state, classification.reason
    assert (decision.action, decision.outcome) == (action, outcome), decision.reason


def test_a_rollback_goes_to_the_last_good_revision_and_a_spent_one_says_so() -> None:
    seen = observed(ReleaseState.FAILED)
    known = record(failures=2, attemptedDigest="want")
    decision = decide(
        classify(desired(retries=1), seen, known, platform="obs", held=Held(), now=NOW),
        desired(retries=1),
        seen,
        known,
    )

    assert (decision.action, decision.rollback_to, decision.remediation) == (
        Action.ROLLBACK,
        2,
        True,
    )
    assert "retries spent" in decision.reason


DRIFTED = LiveState(
    drifted=(DriftedObject(ObjectKey("apps/v1", "Deployment", "obs", "obs-grafana"), "missing"),)
)
NOT_READY = LiveState(not_ready=("Deployment obs-grafana: 0/1 replicas ready",))


@pytest.mark.parametrize(
    ("live", "correct", "finding", "action", "outcome"),
    [
        (DRIFTED, True, Finding.OBJECTS_DRIFTED, Action.CORRECT, "Progressing"),
        (DRIFTED, False, Finding.OBJECTS_DRIFTED, None, "Drifted"),
        (NOT_READY, True, Finding.NOT_READY, None, "Degraded"),
        (LiveState(), True, Finding.IN_SYNC, None, "InSync"),
        (None, True, Finding.IN_SYNC, None, "InSync"),
    ],
    ids=["drifted", "drifted-warn", "not-ready", "as-held", "not-looked-at"],
)
def test_the_live_objects_of_a_release_in_sync_decide_what_follows(
    live: LiveState | None, correct: bool, finding: Finding, action: Action | None, outcome: str
) -> None:
    classification = classify(
        desired(), observed(), record(), platform="obs", held=Held(), now=NOW, live=live
    )
    decision = decide(classification, desired(), observed(), record(), correct_drift=correct)

    assert classification.finding is finding, classification.reason
    assert (decision.action, decision.outcome) == (action, outcome), decision.reason
    if live is DRIFTED:
        assert "Deployment obs-grafana is missing" in decision.reason

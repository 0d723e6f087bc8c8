"""What a Lease says of itself is believed only so far: its duration up to the maximum, times
no later than now, and a holder that is not one of gunj's for the maximum from when it took
the Lease. (On the local cluster, through a reconcile:
tests/cluster/test_hostile_cluster_content.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubernetes import client

from shared.engine.holder import is_gunj_holder, process_identity, reconcile_holder
from shared.kube import ClusterAccess
from shared.kube.lease import Lease, LeaseHeld

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
GUNJ = "fn-7f9c-12-0a1b2c/0a1b2c3d"


def belief(
    holder: str, duration: int, renewed: datetime, acquired: datetime | None = None
) -> LeaseHeld | None:
    lease = Lease(
        ClusterAccess(Path("/nonexistent/kubeconfig")),  # no request is made
        "monitoring",
        "gunj-obs",
        reconcile_holder(process_identity()),
        timedelta(seconds=60),
        max_duration=timedelta(seconds=600),
        recognised=is_gunj_holder,
    )
    spec = client.V1LeaseSpec(
        holder_identity=holder,
        lease_duration_seconds=duration,
        acquire_time=acquired or renewed,
        renew_time=renewed,
    )
    return lease.believed(client.V1Lease(spec=spec), NOW)


def test_a_holder_of_gunj_within_the_maximum_is_believed_as_it_says() -> None:
    held = belief(GUNJ, 60, NOW - timedelta(seconds=10))

    assert held == LeaseHeld(GUNJ, NOW + timedelta(seconds=50))


def test_a_duration_beyond_the_maximum_counts_as_the_maximum() -> None:
    held = belief(GUNJ, 10**9, NOW)

    assert held is not None
    assert held.expires == NOW + timedelta(seconds=600)
    assert (
        held.doubt
        == "its leaseDurationSeconds 1000000000 is beyond the 600 s believed of any holder"
    )


def test_a_renewal_in_the_future_counts_as_now() -> None:
    held = belief(GUNJ, 60, NOW + timedelta(days=365 * 100))

    assert held is not None and held.expires == NOW + timedelta(seconds=60)


def test_a_stranger_is_obeyed_for_the_maximum_from_when_it_took_the_lease() -> None:
    renewed_just_now = belief("tenant-batch-job", 60, NOW, acquired=NOW - timedelta(seconds=590))

    assert renewed_just_now is not None
    assert renewed_just_now.expires == NOW + timedelta(seconds=10)
    assert renewed_just_now.describe() == (
        "'tenant-batch-job', which is not believed past 2026-12-07T18:00:10+00:00: the holder "
        "is not an identity of gunj's, so it is obeyed for 600 s from when it took the Lease "
        "at most"
    )


def test_a_holder_name_is_cut_in_what_is_said_of_it() -> None:
    held = belief("x" * 5000, 60, NOW)

    assert held is not None and len(held.describe()) < 300


def test_gunj_knows_its_own_identities_only() -> None:
    assert is_gunj_holder(reconcile_holder(process_identity()))
    for stranger in ["tenant-batch-job", "kube-controller-manager", "", "a b-1-0a1b2c/0a1b2c3d"]:
        assert not is_gunj_holder(stranger), stranger

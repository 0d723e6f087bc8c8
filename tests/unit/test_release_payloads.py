"""A release Secret's payload is read as hostile input: whatever it holds, reading it ends in
the release's content or in one error naming the release and its Secret, without holding more
than the cap in memory. (On the local cluster, through a reconcile:
tests/cluster/test_hostile_cluster_content.py.)"""

from __future__ import annotations

import base64
import gzip
import tracemalloc

import pytest

from shared.helm.models import ReleaseStatus
from shared.helm.releases import MAX_DECODED_BYTES, ReleaseUnreadable, StoredRevision, encode


def stored(payload: str) -> StoredRevision:
    return StoredRevision(
        release="obs-loki",
        namespace="monitoring",
        revision=4,
        status=ReleaseStatus.DEPLOYED,
        modified=None,
        secret="sh.helm.release.v1.obs-loki.v4",
        resource_version="1",
        payload=payload,
    )


def helm_encoded(raw: bytes) -> str:
    """As Helm's storage driver and then the API's Secret data encode a payload."""
    return base64.b64encode(base64.b64encode(raw)).decode()


NOT_A_RELEASE = (
    "release obs-loki revision 4 (Secret sh.helm.release.v1.obs-loki.v4 in monitoring) cannot "
    "be read: its payload is not a release Helm wrote"
)


def test_a_release_as_helm_stores_it_is_read_whole() -> None:
    release = {"name": "obs-loki", "manifest": "kind: ConfigMap\n" * 200_000}  # 3 MiB

    assert stored(encode(release)).decode() == release


def test_a_payload_that_decompresses_past_the_cap_is_refused_holding_no_more_than_the_cap() -> None:
    bomb = helm_encoded(gzip.compress(b"[" + b"0," * (200 * 2**20) + b"0]", compresslevel=9))
    assert len(bomb) < 2**20  # it fits in a Secret

    tracemalloc.start()
    try:
        with pytest.raises(ReleaseUnreadable) as refused:
            stored(bomb).decode()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert str(refused.value) == (
        "release obs-loki revision 4 (Secret sh.helm.release.v1.obs-loki.v4 in monitoring) "
        "cannot be read: its payload decompresses to more than 16 MiB, the most gunj reads of "
        "one revision"
    )
    assert not refused.value.transient
    print(f"peak while refusing a 400 MiB bomb: {peak / 2**20:.1f} MiB")
    assert peak < 2 * MAX_DECODED_BYTES


@pytest.mark.parametrize(
    "payload",
    [
        "not base64 at all!",
        base64.b64encode(b"neither is this!").decode(),
        helm_encoded(gzip.compress(b'{"name": "obs-loki"}')[:-6]),  # cut short
        helm_encoded(b"\x1f\x8b" + b"\x00" * 40),  # gzip's magic, then nothing of gzip
        helm_encoded(gzip.compress(b'["a list", "not a release"]')),
        helm_encoded(gzip.compress(b"[" * 200_000 + b"]" * 200_000)),  # nested past recursion
        helm_encoded(gzip.compress(b"\xff\xfe not text")),
        "",
    ],
    ids=[
        "not-base64",
        "inner-not-base64",
        "truncated-gzip",
        "gzip-magic-only",
        "json-list",
        "deeply-nested",
        "not-utf8",
        "empty",
    ],
)
def test_a_payload_that_is_not_a_release_is_one_error_naming_the_release(payload: str) -> None:
    with pytest.raises(ReleaseUnreadable) as refused:
        stored(payload).decode()

    assert str(refused.value) == NOT_A_RELEASE

"""What others may write into a platform's namespace is read with suspicion: a forged Helm
release Secret whose payload decompresses without end is refused at 16 MiB and reported as a
problem of that release; a Lease ``gunj-<platform>`` whose holder is no identity of gunj's, or
whose duration is absurd, is reported (who holds it, and why it is doubted) and obeyed for
``GUNJ_LEASE_MAX_SECONDS`` at most."""

from __future__ import annotations

import base64
import gzip
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime

from kubernetes import client

from shared.helm.releases import MAX_DECODED_BYTES
from tests.engine_support import SMALL_TEMPO, Engine, platform

# Decompressed, 64 MiB of one byte: a Secret of about 90 KiB.
BOMB_BYTES = 64 * 2**20


def forged_release(namespace: str, release: str) -> client.V1Secret:
    """A Secret as Helm's storage driver writes one, whose payload is a gzip bomb."""
    compressed = gzip.compress(b'{"name": "' + b"0" * BOMB_BYTES + b'"}', compresslevel=9)
    return client.V1Secret(
        metadata=client.V1ObjectMeta(
            name=f"sh.helm.release.v1.{release}.v1",
            namespace=namespace,
            labels={"owner": "helm", "name": release, "status": "deployed", "version": "1"},
        ),
        type="helm.sh/release.v1",
        data={"release": base64.b64encode(base64.b64encode(compressed)).decode()},
    )


def test_a_forged_release_secret_is_a_problem_of_that_release_within_the_cap(
    engine_helm3: Engine, namespace: str
) -> None:
    engine = engine_helm3
    engine.access.core.create_namespaced_secret(namespace, forged_release(namespace, "obs-tempo"))
    # An unrelated release forged the same way: no concern of this platform's.
    engine.access.core.create_namespaced_secret(namespace, forged_release(namespace, "other"))
    spec = platform(namespace, tempo=SMALL_TEMPO)
    tracemalloc.start()
    try:
        outcome = engine.apply(spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    print(f"peak of Python's allocations while reading the bombs: {peak / 2**20:.1f} MiB")
    assert peak < BOMB_BYTES  # one bomb's decompressed size: it was never held whole
    assert (outcome.result, outcome.transient) == ("error", False), outcome
    assert outcome.message == (
        f"release obs-tempo revision 1 (Secret sh.helm.release.v1.obs-tempo.v1 in {namespace}) "
        f"cannot be read: its payload decompresses to more than {MAX_DECODED_BYTES >> 20} MiB, "
        "the most gunj reads of one revision"
    )
    assert engine.helm_runs() == []
    engine.access.core.delete_namespaced_secret("sh.helm.release.v1.obs-tempo.v1", namespace)
    installed = engine.apply(spec)
    assert installed.result == "ready", installed


def test_a_secret_whose_release_labels_are_not_helms_stops_no_platform(
    engine_helm3: Engine, namespace: str
) -> None:
    engine = engine_helm3
    for name, labels in {
        "forged-version": {"version": "abc", "status": "deployed"},
        "forged-status": {"version": "1", "status": "stuck"},
        "forged-time": {"version": "1", "status": "deployed", "modifiedAt": "9" * 30},
    }.items():
        engine.access.core.create_namespaced_secret(
            namespace,
            client.V1Secret(
                metadata=client.V1ObjectMeta(
                    name=f"sh.helm.release.v1.{name}.v1",
                    namespace=namespace,
                    labels={"owner": "helm", "name": name, **labels},
                ),
                type="helm.sh/release.v1",
                data={"release": base64.b64encode(b"not a release").decode()},
            ),
        )

    outcome = engine.apply(platform(namespace, tempo=SMALL_TEMPO))

    assert outcome.result == "ready", outcome


def lease(namespace: str, holder: str, duration: int) -> client.V1Lease:
    now = datetime.now(UTC)
    return client.V1Lease(
        metadata=client.V1ObjectMeta(name="gunj-obs", namespace=namespace),
        spec=client.V1LeaseSpec(
            holder_identity=holder,
            lease_duration_seconds=duration,
            acquire_time=now,
            renew_time=now,
        ),
    )


def test_a_lease_held_by_a_stranger_is_reported_and_obeyed_no_longer_than_the_maximum(
    engine_helm3: Engine, namespace: str
) -> None:
    engine = engine_helm3
    settings = replace(engine.reconciler.settings, lease_seconds=2, lease_max_seconds=6)
    engine.reconciler.settings = settings
    engine.access.coordination.create_namespaced_lease(
        namespace, lease(namespace, "tenant-batch-job", 60)
    )
    spec = platform(namespace, tempo=SMALL_TEMPO)
    taken = time.monotonic()

    held = engine.apply(spec)

    assert held.result == "deferred", held
    assert (
        f"platform {namespace}/obs is being reconciled by 'tenant-batch-job', which is not "
        "believed past " in held.message
    )
    assert held.message.endswith(
        "the holder is not an identity of gunj's, so it is obeyed for 6 s from when it took "
        "the Lease at most; the spec is stored as the platform's desired state, and the running "
        "reconcile or the next resync applies it"
    )
    time.sleep(max(6 - (time.monotonic() - taken), 0) + 1)
    later = engine.apply(spec)
    assert later.result == "ready", later
    assert later.components[0].actions == ("install", "verify")


def test_a_lease_with_an_absurd_duration_is_believed_for_the_maximum_only(
    engine_helm3: Engine, namespace: str
) -> None:
    engine = engine_helm3
    engine.reconciler.settings = replace(
        engine.reconciler.settings, lease_seconds=2, lease_max_seconds=6
    )
    holder = "elsewhere-17-0a1b2c/0a1b2c3d"  # the form of gunj's own identities
    engine.access.coordination.create_namespaced_lease(namespace, lease(namespace, holder, 10**9))
    spec = platform(namespace, tempo=SMALL_TEMPO)
    taken = time.monotonic()

    held = engine.apply(spec)

    assert held.result == "deferred", held
    assert f"by '{holder}', which is not believed past " in held.message
    assert (
        "its leaseDurationSeconds 1000000000 is beyond the 6 s believed of any holder; "
        in held.message
    )
    time.sleep(max(6 - (time.monotonic() - taken), 0) + 1)
    later = engine.apply(spec)
    assert later.result == "ready", later

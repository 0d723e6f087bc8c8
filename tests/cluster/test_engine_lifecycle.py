"""A platform's life on the local cluster, with Helm 3 and Helm 4: a component disabled and a
platform uninstalled remove only what gunj made; two reconciles at once leave one revision; an
older spec is ignored; an unreachable cluster is transient; a secret that a chart's error
echoes appears nowhere gunj writes; and a valuesFrom Secret that is not YAML is refused for
good without quoting it."""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from shared.engine.outcome import Outcome
from shared.engine.resource import read_platform
from shared.helm import HelmClient, KubeTarget
from shared.helm.releases import ReleaseState
from shared.localstack.stack import Stack
from tests.engine_support import SMALL_PROMETHEUS, SMALL_TEMPO, Engine, make_engine, platform
from tests.support import http_chart

TIMEOUT = timedelta(minutes=2)


def test_disabling_a_component_uninstalls_it_and_uninstalling_the_platform_keeps_others(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    spec = platform(namespace, prometheus=SMALL_PROMETHEUS, tempo=SMALL_TEMPO)
    assert engine.apply(spec).result == "ready"
    target = KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig)
    # Releases gunj never made, one named as a component of this platform would be.
    for name in ("obs-loki", "unrelated"):
        engine.helm.install(
            name, http_chart(local_stack, "tempo", "2.2.4"), target, timeout=TIMEOUT
        )

    disabled = platform(
        namespace, prometheus=SMALL_PROMETHEUS, tempo={**SMALL_TEMPO, "enabled": False}
    )
    outcome = engine.apply(disabled)

    assert outcome.result == "ready", outcome
    assert {c.component: c.actions for c in outcome.components} == {
        # Without Tempo, Prometheus no longer receives remote writes: its values change too.
        "prometheus": ("upgrade", "verify"),
        "tempo": ("uninstall",),
        "loki": (),
    }
    assert engine.release(namespace, "obs-tempo").state is ReleaseState.ABSENT
    assert set(engine.status(namespace).components) == {"prometheus"}

    removed = engine.reconciler.uninstall(namespace, "obs")

    assert removed.result == "removed", removed
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    for name in ("obs-loki", "unrelated"):
        assert engine.release(namespace, name).state is ReleaseState.DEPLOYED
    assert read_platform(engine.access, namespace, "obs") is None


def test_two_reconciles_of_one_platform_at_once_leave_one_revision_and_one_is_deferred(
    engine: Engine, namespace: str, local_stack: Stack, tmp_path: Path, engine_cache: Path
) -> None:
    (tmp_path / "second").mkdir()
    second = make_engine(engine.helm, local_stack, tmp_path / "second", engine_cache)
    spec = platform(namespace, prometheus=SMALL_PROMETHEUS)

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda e: e.apply(spec), [engine, second]))

    assert sorted(o.result for o in outcomes) == ["deferred", "ready"], outcomes
    deferred = next(o for o in outcomes if o.result == "deferred")
    assert deferred.transient and deferred.exit_code == 3
    assert "being reconciled by" in deferred.message
    assert engine.release(namespace, "obs-prometheus").revision == 1
    later = second.apply(spec)
    assert later.result == "ready" and later.components[0].actions == ()


def test_a_reconcile_that_loses_its_lease_changes_nothing_more(
    engine_helm3: Engine, namespace: str
) -> None:
    engine = engine_helm3
    # Renewed every second; Prometheus' pods take 6 s to become ready, time for another
    # holder to take the Lease while its install waits.
    engine.reconciler.settings = replace(engine.reconciler.settings, lease_seconds=3)
    slow = {
        **SMALL_PROMETHEUS,
        "config": {"server": {"podAnnotations": {"gunj.io/ready-after": "6s"}}},
    }
    # Grafana starts only once Prometheus has finished (Loki and Tempo would start beside it).
    spec = platform(namespace, prometheus=slow, grafana={})
    leases = engine.access.coordination

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(engine.apply, spec)
        deadline = time.monotonic() + 60
        while engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT:
            assert time.monotonic() < deadline and not running.done(), "no install began"
            time.sleep(0.2)
        lease = leases.read_namespaced_lease("gunj-obs", namespace)
        lease.spec.holder_identity = "another-reconcile"
        lease.spec.lease_duration_seconds = 600
        lease.spec.renew_time = datetime.now(UTC)
        leases.replace_namespaced_lease("gunj-obs", namespace, lease)
        outcome = running.result(timeout=300)

    assert outcome.result == "deferred", outcome
    assert "Lease" in outcome.message
    assert engine.release(namespace, "obs-grafana").state is ReleaseState.ABSENT
    held = leases.read_namespaced_lease("gunj-obs", namespace)
    assert held.spec.holder_identity == "another-reconcile"  # left to its holder


def test_an_invocation_near_its_deadline_starts_nothing_and_the_next_completes(
    engine_helm3: Engine, namespace: str
) -> None:
    engine = engine_helm3
    spec = platform(namespace, prometheus=SMALL_PROMETHEUS)

    # 30 s left: less than an install may be started with.
    hurried = engine.apply(spec, deadline=time.monotonic() + 30)

    assert (hurried.result, hurried.transient) == ("progressing", True), hurried
    assert engine.helm_runs() == []
    record = engine.status(namespace).components["prometheus"]
    assert record.state == "Progressing" and "the next event continues" in (record.message or "")
    later = engine.apply(spec)
    assert later.result == "ready" and later.components[0].actions == ("install", "verify")


def test_a_spec_older_than_the_clusters_is_ignored_and_reported(
    engine: Engine, namespace: str
) -> None:
    newer = platform(namespace, prometheus=SMALL_PROMETHEUS)
    assert engine.apply(newer, generation=3).result == "ready"
    # A person's apply carries no generation: it is applied, and the cluster's stays.
    by_hand = platform(namespace, prometheus={**SMALL_PROMETHEUS, "retention": "2d"})
    assert engine.apply(by_hand).result == "ready"
    engine.helm_runs()
    older = platform(namespace, prometheus={**SMALL_PROMETHEUS, "retention": "1d"})

    outcome = engine.apply(older, generation=2)

    assert (outcome.result, outcome.transient, outcome.exit_code) == ("stale", False, 1)
    assert "generation 2 is older than generation 3" in outcome.message
    assert engine.helm_runs() == []
    stored = read_platform(engine.access, namespace, "obs")
    assert stored is not None and stored.published_generation == 3
    assert stored.spec["prometheus"]["retention"] == "2d"
    assert engine.release(namespace, "obs-prometheus").revision == 2


def test_an_unreachable_api_server_is_a_transient_outcome(
    helm: HelmClient, local_stack: Stack, tmp_path: Path, engine_cache: Path
) -> None:
    config = yaml.safe_load(local_stack.kubeconfig.read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = "https://127.0.0.1:1"  # nothing listens there
    closed = tmp_path / "kubeconfig"
    closed.write_text(yaml.safe_dump(config))
    unreachable = Stack(**{**local_stack.__dict__, "kubeconfig": closed})
    engine = make_engine(helm, unreachable, tmp_path, engine_cache)

    outcome = engine.apply(platform("monitoring", prometheus=SMALL_PROMETHEUS))

    assert (outcome.result, outcome.transient, outcome.exit_code) == ("error", True, 3)
    assert "cannot be reached" in outcome.message


def everything_said(
    engine: Engine,
    namespace: str,
    outcome: Outcome,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    """What a reconcile told anyone: its outcome, the status, the Events, logs and output."""
    return [
        json.dumps(outcome.to_json()),
        engine.status(namespace).model_dump_json(),
        json.dumps(engine.events(namespace)),
        caplog.text,
        *capsys.readouterr(),
    ]


@pytest.mark.parametrize("shape", ["one-value", "yaml-document"])
def test_a_secret_that_a_failing_chart_echoes_appears_nowhere(
    engine: Engine,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    shape: str,
) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    # The Secret's key holds the value alone (placed with targetPath), or a YAML document of
    # values one of which is the secret: either way, each value is scrubbed on its own.
    if shape == "one-value":
        key, content = "value", secret
        entry = {"kind": "Secret", "name": "echo", "key": key, "targetPath": "failWith"}
    else:
        key, content = "values.yaml", f"server:\n  retention: 2d\nfailWith: {secret}\n"
        entry = {"kind": "Secret", "name": "echo"}
    engine.access.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="echo"),
            data={key: base64.b64encode(content.encode()).decode()},
        ),
    )
    spec = platform(
        namespace,
        prometheus={**SMALL_PROMETHEUS, "valuesFrom": [entry], "remediation": {"retries": 0}},
    )
    caplog.set_level(logging.DEBUG)

    outcome = engine.apply(spec)

    assert outcome.result == "failed", outcome
    record = engine.status(namespace).components["prometheus"]
    assert "refusing to render with failWith=***" in record.last_failure
    for text in everything_said(engine, namespace, outcome, caplog, capsys):
        assert secret not in text


def test_a_valuesfrom_secret_that_is_not_yaml_is_refused_for_good_quoting_nothing(
    engine_helm3: Engine,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = engine_helm3
    engine.access.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="db-values"),
            string_data={"values.yaml": "server:\n  password: hunter2: x\n"},
        ),
    )
    spec = platform(
        namespace,
        prometheus={**SMALL_PROMETHEUS, "valuesFrom": [{"kind": "Secret", "name": "db-values"}]},
    )
    caplog.set_level(logging.DEBUG)

    outcome = engine.apply(spec)

    assert (outcome.result, outcome.transient, outcome.exit_code) == ("error", False, 1), outcome
    assert outcome.message == (
        "spec.prometheus.valuesFrom[0]: Secret db-values key values.yaml: server (line 2, "
        "column 20): not valid YAML: mapping values are not allowed in this context"
    )
    assert not any("install" in run or "upgrade" in run for run in engine.helm_runs())
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT
    for text in everything_said(engine, namespace, outcome, caplog, capsys):
        assert "hunter2" not in text


def test_template_expressions_in_config_are_refused_unless_the_cluster_allows_them(
    engine: Engine, namespace: str
) -> None:
    templated = {
        **SMALL_PROMETHEUS,
        "config": {"server": {"podAnnotations": {"release": "{{ .Release.Name }}"}}},
    }
    spec = platform(namespace, prometheus=templated)

    refused = engine.apply(spec)

    assert (refused.result, refused.transient) == ("refused", False)
    assert "spec.prometheus.config" in refused.message
    assert read_platform(engine.access, namespace, "obs") is None
    assert engine.release(namespace, "obs-prometheus").state is ReleaseState.ABSENT

    engine.reconciler.allow_templates = True
    assert engine.apply(spec).result == "ready"


def tempo_values(annotation: str) -> client.V1ConfigMap:
    """A valuesFrom ConfigMap for Tempo, with one pod annotation."""
    document = yaml.safe_dump({"podAnnotations": {"noise": annotation}})
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="tempo-values"), data={"values.yaml": document}
    )


# Random bytes do not compress: Helm's record of a release holding them would pass the API
# server's limit for a Secret (the spec itself stays small: the bulk comes from a ConfigMap).
NOISE = 450 * 1024
FROM_CONFIGMAP = {"valuesFrom": [{"kind": "ConfigMap", "name": "tempo-values"}]}


def test_an_oversized_spec_is_refused_each_time_before_anything_is_written(
    engine: Engine, namespace: str
) -> None:
    engine.access.core.create_namespaced_config_map(
        namespace, tempo_values(os.urandom(NOISE).hex())
    )
    spec = platform(namespace, tempo={**SMALL_TEMPO, **FROM_CONFIGMAP})

    for _ in range(2):
        outcome = engine.apply(spec)

        assert (outcome.result, outcome.transient) == ("refused", False), outcome
        assert "Secret sh.helm.release.v1.obs-tempo" in outcome.message
        assert read_platform(engine.access, namespace, "obs") is None
        assert engine.helm_runs() == []
        assert engine.release(namespace, "obs-tempo").state is ReleaseState.ABSENT


def test_values_from_a_source_that_grew_too_large_are_refused_before_helm_runs(
    engine: Engine, namespace: str
) -> None:
    engine.access.core.create_namespaced_config_map(namespace, tempo_values("small"))
    spec = platform(namespace, tempo={**SMALL_TEMPO, **FROM_CONFIGMAP})
    first = engine.apply(spec)
    assert first.result == "ready", first
    engine.helm_runs()
    engine.access.core.replace_namespaced_config_map(
        "tempo-values", namespace, tempo_values(os.urandom(NOISE).hex())
    )

    outcome = engine.apply(spec)

    assert (outcome.result, outcome.transient) == ("refused", False), outcome
    assert "Secret sh.helm.release.v1.obs-tempo" in outcome.message
    assert not any(run.startswith("upgrade") for run in engine.helm_runs())
    assert engine.release(namespace, "obs-tempo").revision == 1


def test_a_spec_that_finds_the_platform_busy_is_stored_and_the_next_resync_applies_it(
    engine: Engine, namespace: str
) -> None:
    assert engine.apply(platform(namespace, prometheus=SMALL_PROMETHEUS)).result == "ready"
    now = datetime.now(UTC)
    leases = client.CoordinationV1Api(engine.access.api)
    lease = leases.read_namespaced_lease("gunj-obs", namespace)
    lease.spec = client.V1LeaseSpec(
        holder_identity="another-reconcile",
        lease_duration_seconds=600,
        acquire_time=now,
        renew_time=now,
    )
    leases.replace_namespaced_lease("gunj-obs", namespace, lease)
    changed = platform(namespace, prometheus={**SMALL_PROMETHEUS, "retention": "4d"})

    busy = engine.apply(changed, generation=5)

    assert (busy.result, busy.transient) == ("deferred", True), busy
    assert "stored as the platform's desired state" in busy.message
    stored = read_platform(engine.access, namespace, "obs")
    assert stored is not None
    assert (stored.spec["prometheus"]["retention"], stored.published_generation) == ("4d", 5)
    assert engine.release(namespace, "obs-prometheus").revision == 1

    # The message is never delivered again: the next resync applies what the cluster holds.
    leases.delete_namespaced_lease("gunj-obs", namespace)
    resynced = engine.reconciler.resync(namespace, "obs")

    assert resynced.result == "ready", resynced
    assert [c.actions for c in resynced.components] == [("upgrade", "verify")]
    assert engine.release(namespace, "obs-prometheus").revision == 2

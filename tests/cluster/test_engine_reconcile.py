"""The reconcile engine on the local cluster, with Helm 3 and Helm 4: a platform installed and
verified, kept in sync without a Helm process, changed one component at a time, and corrected
after a change made by hand."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from shared.helm import KubeTarget
from shared.localstack.stack import Stack
from tests.engine_support import SMALL_PROMETHEUS, SMALL_TEMPO, Engine, example, platform
from tests.servers import chart_repository
from tests.support import http_chart


def test_a_fresh_install_of_the_minimal_example_reaches_ready_with_its_status(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    outcome = engine.apply(example("minimal", namespace))

    assert outcome.result == "ready", outcome
    status = engine.status(namespace)
    assert (status.phase, status.observed_generation) == ("Ready", 1)
    conditions = {c.type: c for c in status.conditions}
    assert conditions["Ready"].status == "True"
    assert conditions["TestSuccess"].status == "True"
    assert "Reconciling" not in conditions and "Stalled" not in conditions
    assert set(status.components) == {"prometheus", "loki", "grafana"}
    for name, component in status.components.items():
        release = engine.release(namespace, f"obs-{name}")
        assert (component.mode, component.state, component.chart) == ("helm", "InSync", name)
        assert (component.revision, component.last_good_revision) == (1, 1)
        assert component.chart_version == release.chart_version
        assert component.app_version == release.app_version
        assert component.values_digest == release.content_digest
        assert component.tested and component.verified_revision == 1
        assert "probe of http://" in component.tests and "passed" in component.tests
    reasons = [reason for _, reason, _ in engine.events(namespace)]
    assert reasons.count("Install") == 3 and reasons.count("Verify") == 3
    shown = subprocess.run(
        [
            str(local_stack.kubectl),
            "--kubeconfig",
            str(local_stack.kubeconfig),
            "get",
            "op",
            "-n",
            namespace,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(shown.stdout)["items"][0]["status"]["phase"] == "Ready"


def test_an_unchanged_spec_runs_no_helm_and_a_changed_value_upgrades_only_its_component(
    engine: Engine, namespace: str
) -> None:
    spec = platform(namespace, prometheus=SMALL_PROMETHEUS, tempo=SMALL_TEMPO)
    assert engine.apply(spec).result == "ready"
    engine.helm_runs()

    again = engine.apply(spec)

    assert again.result == "ready"
    assert [c.actions for c in again.components] == [(), ()]
    assert engine.helm_runs() == []
    assert engine.release(namespace, "obs-prometheus").revision == 1

    changed = platform(
        namespace, prometheus={**SMALL_PROMETHEUS, "retention": "3d"}, tempo=SMALL_TEMPO
    )
    outcome = engine.apply(changed)

    assert outcome.result == "ready"
    assert {c.component: c.actions for c in outcome.components} == {
        "prometheus": ("upgrade", "verify"),
        "tempo": (),
    }
    assert engine.release(namespace, "obs-prometheus").revision == 2
    assert engine.release(namespace, "obs-tempo").revision == 1
    assert not [run for run in engine.helm_runs() if "obs-tempo" in run]


def test_values_yaml_1_1_reads_as_booleans_reach_helm_as_written(
    engine: Engine, namespace: str
) -> None:
    # Helm's YAML parser reads a plain `n` or `y` as false or true: were they written so, the
    # release would never hold what the spec asks for, and every apply would upgrade again.
    annotations = {"n": "y", "Y": "N", "on": "off"}
    spec = platform(namespace, tempo={**SMALL_TEMPO, "config": {"podAnnotations": annotations}})

    first = engine.apply(spec)
    again = engine.apply(spec)

    assert first.result == "ready", first
    assert [c.actions for c in first.components] == [("install", "verify")]
    assert (again.result, [c.actions for c in again.components]) == ("ready", [()])
    stored = engine.release(namespace, "obs-tempo").history[-1].decode()["config"]
    assert stored["podAnnotations"] == annotations


def test_an_upgrade_made_by_hand_is_reported_as_drift_and_corrected(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    spec = platform(namespace, prometheus=SMALL_PROMETHEUS)
    assert engine.apply(spec).result == "ready"
    applied = engine.status(namespace).components["prometheus"].values_digest

    engine.helm.upgrade(
        "obs-prometheus",
        http_chart(local_stack, "prometheus", "29.26.0"),
        KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig),
        values={"server": {"retention": "1d"}},
        timeout=timedelta(minutes=2),
    )
    by_hand = engine.release(namespace, "obs-prometheus")
    # Helm carries gunj's labels over to the new revision: the label claims gunj's digest.
    assert by_hand.desired_digest == applied
    assert by_hand.content_digest != applied

    outcome = engine.apply(spec)

    assert outcome.result == "ready"
    assert outcome.components[0].actions == ("upgrade", "verify")
    corrected = engine.release(namespace, "obs-prometheus")
    assert (corrected.revision, corrected.chart_version) == (3, "29.27.0")
    assert corrected.content_digest == applied
    drift = [m for kind, reason, m in engine.events(namespace) if reason == "Drifted"]
    assert drift and "changed outside gunj" in drift[0]


def test_a_rollback_made_by_hand_is_reported_as_drift_and_corrected(
    engine: Engine, namespace: str, local_stack: Stack
) -> None:
    first = platform(namespace, prometheus={**SMALL_PROMETHEUS, "retention": "2d"})
    second = platform(namespace, prometheus={**SMALL_PROMETHEUS, "retention": "3d"})
    assert engine.apply(first).result == "ready"
    assert engine.apply(second).result == "ready"
    wanted = engine.release(namespace, "obs-prometheus").content_digest

    # A person's `helm rollback`: a new revision holding the older content (and, with it, the
    # older revision's labels, gunj's digest of that content among them).
    engine.helm.rollback(
        "obs-prometheus",
        1,
        KubeTarget(namespace=namespace, kubeconfig=local_stack.kubeconfig),
        timeout=timedelta(minutes=2),
    )
    assert engine.release(namespace, "obs-prometheus").revision == 3

    outcome = engine.apply(second)

    assert outcome.result == "ready", outcome
    assert outcome.components[0].actions == ("upgrade", "verify")
    corrected = engine.release(namespace, "obs-prometheus")
    assert (corrected.revision, corrected.content_digest) == (4, wanted)
    drift = [m for _, reason, m in engine.events(namespace) if reason == "Drifted"]
    assert drift and "revision 3 was changed outside gunj" in drift[-1]


def test_a_chart_republished_under_the_same_version_is_found_by_a_resync_and_upgraded(
    engine: Engine, namespace: str, local_stack: Stack, tmp_path: Path
) -> None:
    # A repository of its own, serving prometheus 29.27.0 as the local stack packaged it.
    repository = tmp_path / "repository" / "charts"
    repository.mkdir(parents=True)
    source = local_stack.folder / "charts" / "prometheus-community" / "prometheus-29.27.0.tgz"
    shutil.copy(source, repository)
    helm = str(engine.helm.binary.path)
    engine.reconciler.charts.indexes.max_age = 0  # every look at the index asks the repository
    with chart_repository(tmp_path / "repository") as served:
        url = f"{served.url}/charts"
        # On 127.0.0.1 over plain http: a repository gunj reaches only as a configured mirror.
        charts = engine.reconciler.charts
        charts.settings = replace(charts.settings, mirrors={**charts.settings.mirrors, url: url})
        subprocess.run([helm, "repo", "index", str(repository), "--url", url], check=True)
        chart = {"repository": url}
        spec = platform(namespace, prometheus={**SMALL_PROMETHEUS, "chart": chart})
        assert engine.apply(spec).result == "ready"
        first = engine.release(namespace, "obs-prometheus")

        # The same version packaged again from changed sources: another archive.
        unpacked = tmp_path / "unpacked"
        shutil.unpack_archive(repository / "prometheus-29.27.0.tgz", unpacked)
        chart_yaml = unpacked / "prometheus" / "Chart.yaml"
        chart_yaml.write_text(chart_yaml.read_text() + "\nannotations: {republished: 'true'}\n")
        (repository / "prometheus-29.27.0.tgz").unlink()
        subprocess.run(
            [helm, "package", str(unpacked / "prometheus"), "-d", str(repository)],
            check=True,
            capture_output=True,
        )
        subprocess.run([helm, "repo", "index", str(repository), "--url", url], check=True)

        quiet = engine.apply(spec)  # a spec message: the repository is not asked
        resynced = engine.reconciler.resync(namespace, "obs")

    assert (quiet.result, quiet.components[0].actions) == ("ready", ())
    assert resynced.result == "ready", resynced
    assert resynced.components[0].actions == ("upgrade", "verify")
    after = engine.release(namespace, "obs-prometheus")
    assert after.chart_version == first.chart_version == "29.27.0"
    assert after.labels["gunj.io/chart-archive"] != first.labels["gunj.io/chart-archive"]
    said = [m for _, reason, m in engine.events(namespace) if reason == "Republished"]
    assert said and "republished under the same version" in said[0]

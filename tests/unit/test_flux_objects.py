"""What the Flux benchmark asks Flux for is what gunj is asked for: one HelmRelease per
component with gunj's release name, chart, version and the values gunj gives Helm; a
HelmRelease counts as done only once helm-controller reports it for its current generation (and
the reconcile asked for); and the controllers are built from wrapper modules pinned to the
versions the benchmark names."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from shared.localstack import flux, pins
from shared.localstack.tools import GOMOD_ROOT
from shared.values.plan import plan_platform
from shared.values.validation import load_platform


def platform_plans(spec: dict[str, Any]) -> list[Any]:
    document = {
        "apiVersion": "observability.io/v1beta1",
        "kind": "ObservabilityPlatform",
        "metadata": {"name": "obs", "namespace": "team-a"},
        "spec": spec,
    }
    return plan_platform(load_platform(yaml.safe_dump(document)))


FOUR = {
    "global": {"mode": "helm"},
    "prometheus": {"chartVersion": "29.27.0", "alertmanager": {"enabled": False}},
    "loki": {"chartVersion": "18.11.0"},
    "tempo": {"chartVersion": "2.2.4", "config": {"replicas": 2}},
    "grafana": {"chartVersion": "12.11.1", "adminCredentials": {"existingSecret": "admin"}},
}


def test_each_component_becomes_a_helmrelease_with_gunjs_values() -> None:
    plans = platform_plans(FOUR)

    releases = [
        flux.helm_release(plan, ("sources", "charts"), labels={"run": "x"}) for plan in plans
    ]

    assert [r["metadata"]["name"] for r in releases] == [p.release for p in plans]
    for plan, release in zip(plans, releases, strict=True):
        assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
        assert release["metadata"]["namespace"] == "team-a"
        assert release["metadata"]["labels"] == {"run": "x"}
        assert release["spec"]["releaseName"] == plan.release
        chart = release["spec"]["chart"]["spec"]
        assert (chart["chart"], chart["version"]) == (plan.chart, plan.chart_version)
        assert chart["sourceRef"] == {
            "kind": "HelmRepository",
            "name": "charts",
            "namespace": "sources",
        }
        assert release["spec"]["values"] == plan.complete_values([])
        # gunj's defaults for a component, asked of helm-controller too.
        assert release["spec"]["test"] == {"enable": True}
        assert release["spec"]["driftDetection"] == {"mode": "enabled"}
        assert release["spec"]["upgrade"]["remediation"] == {"retries": 3, "strategy": "rollback"}
    tempo = next(r for r in releases if r["metadata"]["name"] == "obs-tempo")
    assert tempo["spec"]["values"]["replicas"] == 2  # the spec's config wins, as in gunj
    grafana = next(r for r in releases if r["metadata"]["name"] == "obs-grafana")
    assert "admin" in yaml.safe_dump(grafana["spec"]["values"])


def test_components_a_helmrelease_cannot_carry_are_refused() -> None:
    native = platform_plans({"tempo": {"mode": "native"}})[0]
    from_configmap = platform_plans(
        {"tempo": {"valuesFrom": [{"kind": "ConfigMap", "name": "extra", "key": "values.yaml"}]}}
    )[0]

    with pytest.raises(ValueError, match="tempo: only a Helm-mode component"):
        flux.helm_release(native, ("sources", "charts"))
    with pytest.raises(ValueError, match="tempo: valuesFrom"):
        flux.helm_release(from_configmap, ("sources", "charts"))


def helmrelease(generation: int, observed: int, ready: str, handled: str | None = None) -> Any:
    status: dict[str, Any] = {
        "observedGeneration": observed,
        "conditions": [{"type": "Ready", "status": ready, "reason": "x", "message": "m"}],
    }
    if handled is not None:
        status["lastHandledReconcileAt"] = handled
    return {"metadata": {"generation": generation}, "status": status}


def test_ready_only_for_the_current_generation_and_the_requested_reconcile() -> None:
    assert flux.is_ready(helmrelease(2, 2, "True"))
    assert not flux.is_ready(helmrelease(2, 1, "True"))  # an older generation's Ready
    assert not flux.is_ready(helmrelease(2, 2, "False"))
    assert not flux.is_ready({"metadata": {"generation": 1}})
    assert flux.is_ready(helmrelease(2, 2, "True", "t2"), requested="t2")
    assert not flux.is_ready(helmrelease(2, 2, "True", "t1"), requested="t2")
    assert not flux.is_ready(helmrelease(2, 2, "True"), requested="t2")


def test_given_up_only_when_stalled() -> None:
    retrying = helmrelease(1, 1, "False")
    stalled = helmrelease(1, 1, "False")
    stalled["status"]["conditions"].append(
        {"type": "Stalled", "status": "True", "message": "install retries exhausted"}
    )

    assert flux.given_up(retrying) is None
    assert flux.given_up(stalled) == "install retries exhausted"


@pytest.mark.parametrize("pin", pins.FLUX_CONTROLLER_PINS, ids=lambda p: p.name)
def test_wrapper_modules_pin_the_versions_the_benchmark_names(pin: pins.GoBuildPin) -> None:
    folder = GOMOD_ROOT / pin.module_dir
    go_mod = (folder / "go.mod").read_text()
    go_sum = (folder / "go.sum").read_text()
    ((_, package),) = pin.binaries

    assert re.search(rf"^tool {re.escape(package)}$", go_mod, re.MULTILINE)
    assert re.search(rf"^\s+{re.escape(package)} {re.escape(pin.version)}\b", go_mod, re.MULTILINE)
    assert f"{package} {pin.version} h1:" in go_sum
    # Each CRD copied next to the binary comes from the module built.
    assert pin.module_files
    assert all(module == package for module, _ in pin.module_files)


def test_the_helm_inside_a_controller_is_read_from_its_build_listing() -> None:
    listing = (
        "/tools/helm-controller: go1.26.8\n"
        "\tpath\tgithub.com/fluxcd/helm-controller\n"
        "\tmod\tgithub.com/fluxcd/helm-controller\tv1.4.0\th1:abc=\n"
        "\tdep\thelm.sh/helm/v3\tv3.19.0\th1:def=\n"
        "\tdep\tk8s.io/client-go\tv0.34.0\th1:ghi=\n"
    )

    assert flux.embedded_helm(listing) == "v3.19.0"
    assert flux.embedded_helm(listing.replace("helm/v3\tv3.19.0", "helm/v4\tv4.0.1")) == "v4.0.1"
    assert flux.embedded_helm("\tdep\tk8s.io/client-go\tv0.34.0\th1:x=\n") is None

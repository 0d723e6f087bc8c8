"""Which form a component is made in: the process default (GUNJ_MANAGER_MODE) picks one for a
component that has none yet, the spec's mode switches an installed one, and native mode stands
in for Helm only where Helm cannot make a new component. Also: without a Helm binary the engine
still starts, and what needs Helm names the setting that is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.engine.modes import HelmUnavailable, ModeChoice, choose_mode
from shared.engine.settings import EngineSettings
from shared.helm.models import ReleaseStatus
from shared.helm.releases import ObservedRelease, ReleaseState
from shared.values.spec.common import Mode

RELEASE = "obs-prometheus"
UNREACHABLE = "http://127.0.0.1:1/prometheus-community/index.yaml: cannot be reached"


def form(present: bool) -> ObservedRelease:
    if not present:
        return ObservedRelease(RELEASE, "monitoring", ReleaseState.ABSENT)
    return ObservedRelease(
        RELEASE, "monitoring", ReleaseState.DEPLOYED, ReleaseStatus.DEPLOYED, revision=1
    )


class Helm:
    """Why Helm cannot make the component (None: it can), and whether anyone asked."""

    def __init__(self, problem: str | None = None) -> None:
        self.problem = problem
        self.asked = False

    def __call__(self) -> str | None:
        self.asked = True
        return self.problem


def choose(
    requested: Mode,
    *,
    explicit: bool,
    helm: bool = False,
    native: bool = False,
    problem: Helm | None = None,
    fallback: bool = False,
) -> ModeChoice:
    return choose_mode(
        requested,
        explicit,
        {"helm": form(helm), "native": form(native)},
        problem or Helm(),
        fallback_allowed=fallback,
        component="prometheus",
    )


@pytest.mark.parametrize(
    ("requested", "explicit", "helm", "native", "chosen"),
    [
        pytest.param("native", False, False, False, "native", id="default-native-new"),
        pytest.param("native", False, True, False, "helm", id="default-native-keeps-helm"),
        pytest.param("helm", False, False, True, "native", id="default-helm-keeps-native"),
        pytest.param("native", True, True, False, "native", id="spec-native-switches"),
        pytest.param("helm", True, False, True, "helm", id="spec-helm-switches"),
        pytest.param("helm", False, False, False, "helm", id="default-helm-new"),
        # Both forms, half-way through a switch the spec no longer names: the default decides.
        pytest.param("native", False, True, True, "native", id="default-native-both"),
    ],
)
def test_the_process_default_chooses_only_for_a_new_component(
    requested: Mode, explicit: bool, helm: bool, native: bool, chosen: Mode
) -> None:
    assert choose(requested, explicit=explicit, helm=helm, native=native) == ModeChoice(chosen)


def test_an_installed_component_is_kept_without_asking_about_helm() -> None:
    # Keeping what runs needs no chart, and no answer of Helm's is a reason to switch it.
    helm = Helm(UNREACHABLE)

    assert choose("native", explicit=False, helm=True, problem=helm) == ModeChoice("helm")
    assert choose("helm", explicit=False, native=True, problem=helm) == ModeChoice("native")
    assert not helm.asked


def test_native_stands_in_for_a_new_component_only_where_allowed() -> None:
    allowed = choose("helm", explicit=False, problem=Helm(UNREACHABLE), fallback=True)
    assert allowed == ModeChoice("native", UNREACHABLE)

    with pytest.raises(HelmUnavailable) as refused:
        choose("helm", explicit=False, problem=Helm(UNREACHABLE))
    assert refused.value.transient
    assert "GUNJ_NATIVE_FALLBACK" in str(refused.value) and UNREACHABLE in str(refused.value)


def test_a_switch_back_to_helm_keeps_native_while_helm_cannot_make_it() -> None:
    chosen = choose("helm", explicit=True, native=True, problem=Helm(UNREACHABLE))

    assert chosen == ModeChoice("native", UNREACHABLE)


def test_without_a_helm_binary_the_engine_starts_and_says_what_is_missing(
    tmp_path: Path,
) -> None:
    settings = EngineSettings.from_environment({"PATH": str(tmp_path)})

    assert settings.helm_binary is None
    assert "GUNJ_HELM_BINARY" in (settings.missing_helm() or "")
    configured = EngineSettings.from_environment({"GUNJ_HELM_BINARY": str(tmp_path / "helm")})
    assert "GUNJ_HELM_BINARY" in (configured.missing_helm() or "")

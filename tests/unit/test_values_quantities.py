"""Numbers where Kubernetes takes quantities (`cpu: 1`, `cpu: 0.5`, `size: 50`): accepted, kept as
the string Kubernetes prints, so a number and its quoted form are the same spec."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from shared.engine.admission import spec_digest
from shared.values.plan import plan_platform
from shared.values.quantity import canonical_number, quantity_value
from shared.values.validation import load_platform, validate
from tests.unit.test_values_validation import _gunj, document


# The canonical forms Kubernetes documents and prints (resource.Quantity's String()).
@pytest.mark.parametrize(
    ("number", "printed"),
    [
        (1, "1"),
        (0, "0"),
        (0.5, "500m"),
        (1.5, "1500m"),
        (0.1, "100m"),
        (2.25, "2250m"),
        (512, "512"),
        (1024, "1024"),
        (1000, "1k"),
        (1500, "1500"),
        (12000, "12k"),
        (1_000_000_000, "1G"),
        (0.0001, "100u"),
    ],
)
def test_a_number_becomes_the_quantity_kubernetes_prints(number: float, printed: str) -> None:
    assert canonical_number(number) == printed
    assert quantity_value(printed) == Decimal(str(number))


def test_a_number_finer_than_a_nano_is_rounded_up_to_one_as_kubernetes_does() -> None:
    assert canonical_number(1e-12) == "1n"
    assert canonical_number(1.0000000001) == "1000000001n"


def resources(**requests: object) -> dict[str, object]:
    return document({"prometheus": {"resources": {"requests": requests}}})


def test_numbers_are_accepted_where_kubernetes_accepts_them() -> None:
    result = validate(
        document(
            {
                "prometheus": {
                    "resources": {"requests": {"cpu": 0.5, "memory": "1Gi"}, "limits": {"cpu": 1}},
                    "storage": {"size": 53_687_091_200},
                },
                "loki": {"storage": {"size": 10_000_000_000}},
            }
        )
    )

    assert result.ok, result.problems
    assert result.platform is not None
    prometheus = result.platform.spec.prometheus
    assert prometheus is not None and prometheus.resources is not None
    assert prometheus.resources.requests is not None and prometheus.resources.limits is not None
    assert prometheus.resources.requests.cpu == "500m"
    assert prometheus.resources.limits.cpu == "1"
    assert prometheus.storage is not None and prometheus.storage.size == "53687091200"
    values = {plan.component: plan.values for plan in plan_platform(result.platform)}
    assert values["prometheus"]["server"]["resources"]["requests"]["cpu"] == "500m"


def test_a_number_and_the_string_kubernetes_prints_for_it_are_the_same_spec() -> None:
    as_numbers = load_platform(yaml.safe_dump(resources(cpu=0.5, memory=1_000_000_000)))
    as_strings = load_platform(yaml.safe_dump(resources(cpu="500m", memory="1G")))

    assert spec_digest(as_numbers) == spec_digest(as_strings)
    assert as_numbers.manifest() == as_strings.manifest()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (-1, "not negative"),
        (True, "got true/false: quote it"),
        ("two", "not a Kubernetes quantity"),
    ],
)
def test_what_is_no_quantity_is_refused(value: object, fragment: str) -> None:
    found = {p.path: p.message for p in validate(resources(cpu=value)).problems}

    assert fragment in found["spec.prometheus.resources.requests.cpu"]


def test_memory_and_storage_without_a_unit_are_accepted_with_a_warning(tmp_path: Path) -> None:
    spec = tmp_path / "bytes.yaml"
    spec.write_text(
        "apiVersion: observability.io/v1beta1\nkind: ObservabilityPlatform\n"
        "metadata: {name: obs, namespace: mon}\n"
        "spec:\n  prometheus:\n    resources: {requests: {cpu: 1, memory: 512}}\n"
        "    storage: {size: 50}\n"
        "  loki: {storage: {size: 50Gi}}\n"
    )

    result = _gunj("validate", str(spec))

    assert result.returncode == 0, result.stdout
    assert f"{spec}: valid" in result.stdout
    for path in ("spec.prometheus.resources.requests.memory", "spec.prometheus.storage.size"):
        assert (
            f"warning: {path}: less than 1Mi: a quantity without a unit counts bytes; add one, "
            "e.g. 512Mi or 50Gi" in result.stdout
        )
    assert "spec.loki" not in result.stdout
    assert "resources.requests.cpu" not in result.stdout


def test_loki_sizes_take_a_whole_number_of_bytes_as_loki_does() -> None:
    result = validate(document({"loki": {"limits": {"maxLineSize": 256000}}}))

    assert result.ok, result.problems
    assert result.platform is not None and result.platform.spec.loki is not None
    assert result.platform.spec.loki.limits is not None
    assert result.platform.spec.loki.limits.max_line_size == "256000"

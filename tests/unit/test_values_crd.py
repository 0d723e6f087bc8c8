"""The checked-in CRD and JSON schema are what the model generates."""

from __future__ import annotations

import jsonschema
import yaml

from shared.values import crd
from tests.unit.test_values_validation import EXAMPLES


def test_checked_in_files_match_the_model() -> None:
    for name, generated in crd.generated_files().items():
        assert crd.checked_in(name) == generated, f"{name} drifted: run `gunj schema --write`"


def test_crd_names_columns_and_status() -> None:
    definition = crd.crd_manifest()
    version = definition["spec"]["versions"][0]

    assert definition["metadata"]["name"] == "observabilityplatforms.observability.io"
    assert definition["spec"]["names"]["shortNames"] == ["op"]
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Phase",
        "Ready",
        "Drifted",
        "Observed",
        "Upgrades",
        "Age",
    ]
    assert version["subresources"] == {"status": {}}
    assert "status" in version["schema"]["openAPIV3Schema"]["properties"]


def test_json_schema_accepts_the_examples_and_rejects_unknown_fields() -> None:
    schema = crd.json_schema()
    production = yaml.safe_load((EXAMPLES / "production.yaml").read_text())
    jsonschema.validate(production, schema)

    production["spec"]["prometheus"]["retension"] = "15d"
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(production))
    assert any("retension" in error.message for error in errors)

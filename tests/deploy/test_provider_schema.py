"""Every ``resource`` and ``data`` block of terraform/ checked against the google provider's real
schema (from ``@cdktf/provider-google``, generated from the provider, fetched with npm into the
tool cache): each argument and nested block exists, literals have its type, and every required
argument and block is set. The provider itself cannot be fetched offline; its schema can."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import Any

import hcl2
import pytest

from shared.localstack import pins, tools
from tests.conftest import IN_CI

from .provider_schema import ProviderSchema, problems

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"


@pytest.fixture(scope="module")
def schema() -> ProviderSchema:
    """Skipped on a machine without npm or the npm registry; under CI=true that fails."""
    try:
        jsii = tools.ensure_npm_member(pins.GOOGLE_PROVIDER_SCHEMA)
    except tools.ProvisionError as error:
        if IN_CI:
            pytest.fail(f"CI=true and the provider schema is unavailable: {error}", pytrace=False)
        pytest.skip(f"the provider schema is unavailable: {error}")
    return ProviderSchema(jsii)


def blocks_in(path: Path) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(resource or data, type, name, body) of every resource and data block of a file."""
    with path.open() as handle:
        parsed = hcl2.load(handle)
    found = []
    for kind in ("resource", "data"):
        for block in parsed.get(kind, []):
            for type_name, named in block.items():
                for name, body in named.items():
                    found.append((kind, type_name.strip('"'), name.strip('"'), body))
    return found


def every_block() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (kind, type_name, f"{path.relative_to(TERRAFORM)}: {kind}.{type_name}.{name}", body)
        for path in sorted(TERRAFORM.rglob("*.tf"))
        for kind, type_name, name, body in blocks_in(path)
    ]


def test_the_schema_knows_the_providers_resources(schema: ProviderSchema) -> None:
    kinds = schema.kinds()
    assert len(kinds) > 1000
    bucket = schema.block("resource", "google_storage_bucket")
    assert bucket is not None
    assert bucket.arguments["name"].required and bucket.arguments["location"].required
    assert not bucket.arguments["uniform_bucket_level_access"].required
    assert bucket.arguments["uniform_bucket_level_access"].type == "boolean"
    assert bucket.arguments["labels"].type == "map"
    assert "versioning" in bucket.blocks and "lifecycle_rule" in bucket.blocks
    secret = schema.block("resource", "google_secret_manager_secret")
    assert secret is not None and secret.blocks["replication"][1]  # a required block
    assert schema.block("data", "google_project") is not None


def test_every_resource_and_data_block_matches_the_provider_schema(
    schema: ProviderSchema,
) -> None:
    blocks = every_block()
    assert {type_name for _, type_name, _, _ in blocks} >= {
        "google_cloudfunctions2_function",
        "google_pubsub_subscription",
        "google_storage_bucket",
        "google_project",
    }
    found = []
    for kind, type_name, where, body in blocks:
        block = schema.block(kind, type_name)
        if block is None:
            found.append(f"{where}: the provider has no {kind} {type_name}")
            continue
        found += problems(body, block, where)

    assert found == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            # A misspelt argument.
            'resource "google_pubsub_subscription" "x" {\n  name = "n"\n  topic = "t"\n'
            "  ack_deadline = 60\n}\n",
            ["x: no argument or block 'ack_deadline'"],
        ),
        (
            # A required argument missing, and a block under a name the provider lacks.
            'resource "google_storage_bucket" "x" {\n  name = "n"\n  versionning {\n'
            "    enabled = true\n  }\n}\n",
            ["x: no argument or block 'versionning'", "x: required argument 'location' is not set"],
        ),
        (
            # A nested argument misspelt inside a dynamic block's content, and a wrong type.
            'resource "google_storage_bucket" "x" {\n  name = "n"\n  location = "EU"\n'
            '  uniform_bucket_level_access = "yes"\n  dynamic "encryption" {\n'
            "    for_each = []\n    content {\n      kms_key_name = encryption.value\n    }\n"
            "  }\n}\n",
            [
                "x.uniform_bucket_level_access: a boolean is expected, got '\"yes\"'",
                "x.encryption: no argument or block 'kms_key_name'",
                "x.encryption: required argument 'default_kms_key_name' is not set",
            ],
        ),
        (
            # An object where a string belongs, a list where a map belongs.
            'resource "google_pubsub_topic" "x" {\n  name = { a = "b" }\n  labels = ["a"]\n}\n',
            [
                "x.name: a string is expected, got {'a': '\"b\"'}",
                "x.labels: a map is expected, got ['\"a\"']",
            ],
        ),
        (
            # A required block missing.
            'resource "google_secret_manager_secret" "x" {\n  secret_id = "s"\n}\n',
            ["x: required block 'replication' is missing"],
        ),
    ],
)
def test_a_wrong_argument_fails(
    schema: ProviderSchema, text: str, expected: list[str], tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text(text)
    ((kind, type_name, _, body),) = blocks_in(tmp_path / "main.tf")
    block = schema.block(kind, type_name)
    assert block is not None

    assert sorted(problems(body, block, "x")) == sorted(expected)


def test_a_tarball_that_is_not_the_pinned_one_is_refused(
    schema: ProviderSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same package under a wrong integrity: fetched, refused, nothing kept."""
    monkeypatch.setenv("GUNJ_CACHE_DIR", str(tmp_path))
    pin = dataclasses.replace(
        pins.GOOGLE_PROVIDER_SCHEMA, integrity="sha512-" + base64.b64encode(bytes(64)).decode()
    )

    with pytest.raises(tools.ProvisionError, match=r"the tarball's sha512 is .*, the pin says"):
        tools.ensure_npm_member(pin)
    assert [p.name for p in (tmp_path / "tools").iterdir()] == [".locks"]

"""Secrets a spec references are mounted through volumes whose names Kubernetes accepts: a
volume name is a DNS-1123 label (no dots, at most 63 characters) while a Secret's name may be a
subdomain (dots, up to 253 characters)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.values.build.context import secret_volume_name
from tests.unit.test_values_fields import dig, plan_for

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def grafana_database(secret: str) -> dict[str, Any]:
    return {
        "grafana": {
            "database": {
                "type": "postgres",
                "host": "db:5432",
                "name": "grafana",
                "user": "grafana",
                "passwordSecretRef": {"name": secret, "key": "password"},
            }
        }
    }


def remote_writes(*secrets: str) -> dict[str, Any]:
    return {
        "prometheus": {
            "remoteWrite": [
                {
                    "url": f"https://m{index}.example/push",
                    "basicAuth": {
                        "username": "u",
                        "passwordSecretRef": {"name": secret, "key": "password"},
                    },
                }
                for index, secret in enumerate(secrets)
            ]
        }
    }


def test_grafana_database_secret_with_dots_mounts_through_a_valid_volume() -> None:
    values = plan_for(grafana_database("db.creds"), "grafana").values

    [mount] = values["extraSecretMounts"]
    assert DNS_LABEL.fullmatch(mount["name"]), mount["name"]
    assert mount["secretName"] == "db.creds"
    assert mount["mountPath"] == "/etc/secrets/db.creds"
    assert dig(values, "grafana\\.ini.database.password") == (
        "$__file{/etc/secrets/db.creds/password}"
    )


def test_prometheus_remote_write_secrets_with_dots_mount_through_distinct_valid_volumes() -> None:
    server = plan_for(remote_writes("rw.creds", "rw-creds"), "prometheus").values["server"]

    mounts = server["extraSecretMounts"]
    names = [mount["name"] for mount in mounts]
    assert [mount["secretName"] for mount in mounts] == ["rw.creds", "rw-creds"]
    assert all(DNS_LABEL.fullmatch(name) for name in names), names
    assert len(set(names)) == 2
    assert [w["basic_auth"]["password_file"] for w in server["remoteWrite"]] == [
        "/etc/secrets/rw.creds/password",
        "/etc/secrets/rw-creds/password",
    ]


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 253,
        # Cut at 54 characters, a plain prefix would end in '-'.
        "a" * 46 + "-" + "b" * 30,
        "x." * 100 + "y",
    ],
    ids=["longest", "cut-at-a-dash", "many-dots"],
)
def test_long_secret_names_give_valid_volume_names(secret: str) -> None:
    name = secret_volume_name(secret)

    assert DNS_LABEL.fullmatch(name), name
    assert name.startswith("secret-")


def test_secrets_sharing_a_long_prefix_get_different_volumes() -> None:
    prefix = "c" * 70

    assert secret_volume_name(f"{prefix}-one") != secret_volume_name(f"{prefix}-two")


def test_a_secret_name_that_already_fits_keeps_its_plain_volume_name() -> None:
    # Existing releases keep their volume (and pods are not replaced for a rename).
    assert secret_volume_name("remote-write-credentials") == "secret-remote-write-credentials"
    assert secret_volume_name("a" * 56) == "secret-" + "a" * 56

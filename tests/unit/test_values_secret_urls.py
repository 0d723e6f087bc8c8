"""The plaintext-secret check on what Grafana and Alertmanager configurations hold: Grafana's own
references (`$__env{}`, `$__file{}`, `$__vault{}`) are not secrets; a URL that carries its
credential (a Slack or PagerDuty webhook, a token in the query, a password in the userinfo) is
one, under any key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.values.secrets import plaintext_secrets
from shared.values.validation import validate
from tests.unit.test_values_validation import _gunj, document

TOKEN = "T0A1B2C3D/B4E5F6G7H/s3cr3tW3bh00kT0k3n"


def alertmanager(receiver: dict[str, Any]) -> dict[str, Any]:
    return document(
        {
            "prometheus": {
                "config": {
                    "alertmanagerFiles": {
                        "alertmanager.yml": {"receivers": [{"name": "team", **receiver}]}
                    }
                }
            }
        }
    )


def grafana_ini(section: dict[str, Any]) -> dict[str, Any]:
    return document(
        {
            "grafana": {
                "adminCredentials": {"existingSecret": "admin"},
                "config": {"grafana.ini": section},
            }
        }
    )


@pytest.mark.parametrize(
    "reference",
    [
        "$__file{/etc/secrets/grafana-db/password}",
        "$__env{GF_DATABASE_PASSWORD}",
        "$__vault{database:database/creds/grafana:password}",
    ],
)
def test_grafanas_own_references_are_not_secrets(reference: str) -> None:
    result = validate(grafana_ini({"database": {"password": reference}}))

    assert result.ok, result.problems


def test_a_reference_with_a_literal_around_it_is_still_a_secret() -> None:
    problems = plaintext_secrets(grafana_ini({"database": {"password": "x$__env{A}"}}))

    assert [p.path for p in problems] == ['spec.grafana.config["grafana.ini"].database.password']


SLACK = f"https://hooks.slack.com/services/{TOKEN}"
BASE = 'spec.prometheus.config.alertmanagerFiles["alertmanager.yml"].receivers[0]'


@pytest.mark.parametrize(
    ("receiver", "path", "fragment"),
    [
        (
            {"slack_configs": [{"api_url": SLACK}]},
            f"{BASE}.slack_configs[0].api_url",
            "a hooks.slack.com webhook: its path is its token",
        ),
        (
            {"pagerduty_configs": [{"routing_key": TOKEN}]},
            f"{BASE}.pagerduty_configs[0].routing_key",
            "plaintext secrets are not accepted",
        ),
        (
            {"pagerduty_configs": [{"service_key": TOKEN}]},
            f"{BASE}.pagerduty_configs[0].service_key",
            "plaintext secrets are not accepted",
        ),
        (
            {
                "webhook_configs": [
                    {"url": f"https://events.pagerduty.com/integration/{TOKEN}/enqueue"}
                ]
            },
            f"{BASE}.webhook_configs[0].url",
            "a events.pagerduty.com webhook",
        ),
        (
            {"webhook_configs": [{"url": f"https://alerts.example.com/hook?team=a&token={TOKEN}"}]},
            f"{BASE}.webhook_configs[0].url",
            "a credential in the query",
        ),
        (
            {"webhook_configs": [{"url": f"https://alerts.example.com/hook?api_key={TOKEN}"}]},
            f"{BASE}.webhook_configs[0].url",
            "a credential in the query",
        ),
        (
            {
                "webhook_configs": [
                    {"url": f"https://ops:{TOKEN.replace('/', '')}@alerts.example.com/"}
                ]
            },
            f"{BASE}.webhook_configs[0].url",
            "a password in the userinfo",
        ),
    ],
)
def test_urls_and_keys_carrying_a_credential_are_refused(
    receiver: dict[str, Any], path: str, fragment: str
) -> None:
    result = validate(alertmanager(receiver))

    found = {p.path: p.message for p in result.problems}
    assert set(found) == {path}
    assert fragment in found[path]
    assert "prometheus.valuesFrom (kind: Secret, with a targetPath)" in found[path]
    assert "s3cr3t" not in found[path]


@pytest.mark.parametrize(
    "url",
    [
        "https://alerts.example.com/hook?team=ops&severity=page",
        "https://ops@alerts.example.com/hook",
        "https://hooks.slack.com/",
        "https://grafana.example.com/d/abc?orgId=1&key=$__env{KEY}",
    ],
)
def test_urls_without_a_credential_are_accepted(url: str) -> None:
    result = validate(alertmanager({"webhook_configs": [{"url": url}]}))

    assert result.ok, result.problems


def test_cli_refuses_a_slack_webhook_without_showing_it(tmp_path: Path) -> None:
    spec = tmp_path / "slack.yaml"
    spec.write_text(yaml.safe_dump(alertmanager({"slack_configs": [{"api_url": SLACK}]})))

    result = _gunj("validate", str(spec))

    assert result.returncode == 1
    assert (
        f"  - {BASE}.slack_configs[0].api_url: credentials do not belong in the URL (a "
        "hooks.slack.com webhook: its path is its token; the value is not shown): a plaintext "
        "secret; put the URL in a Secret and reference it with prometheus.valuesFrom"
        in result.stdout
    )
    assert TOKEN not in result.stdout + result.stderr

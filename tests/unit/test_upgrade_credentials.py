"""An upgrade check reads a private repository with the credentials the spec names
(`chart.credentialsSecretRef`), from the Secret in the platform's namespace, as reconcile does.
One run keeps each set of credentials' view of a repository apart from the anonymous one (and
from other credentials'): a platform without credentials failing on the repository does not fail
one with them, nor the other way round. A credentials problem is that platform's alone, and the
password shows in no report.

The repository is served over HTTP and requires HTTP Basic credentials; the cluster's Secrets are
the only part of the cluster the check reads here, answered as the Kubernetes client answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from kubernetes import client

from shared.engine.resource import StoredPlatform
from shared.engine.sources import SecretSources
from shared.helm.repositories import RepositorySettings, known_repositories
from shared.kube import ClusterAccess
from shared.kube.errors import from_response
from shared.upgrades.catalog import RunCatalog
from shared.upgrades.check import Kubernetes
from shared.upgrades.run import PlatformReport, check_platform
from shared.values.spec.status import PlatformStatus
from tests.servers import chart_repository
from tests.unit.test_upgrade_proposals import PROMETHEUS, index

PASSWORD = "s3cret-repository-password"
UPSTREAM = known_repositories()["prometheus-community"].url


class Secrets:
    """The Secrets of one namespace, as ``CoreV1Api.read_namespaced_secret`` returns them."""

    def __init__(self, namespace: str, secrets: dict[str, dict[str, str]]) -> None:
        self.namespace = namespace
        self.secrets = secrets

    def read_namespaced_secret(self, name: str, namespace: str) -> client.V1Secret:
        if namespace != self.namespace or name not in self.secrets:
            raise from_response(404, "Not Found")
        data = {k: base64.b64encode(v.encode()).decode() for k, v in self.secrets[name].items()}
        return client.V1Secret(data=data)


@dataclass
class Run:
    """One check run against the private repository, in namespace ``team`` of one cluster."""

    catalog: RunCatalog
    sources: SecretSources
    mirror: str

    def check(self, name: str, chart: dict[str, Any] | None = None) -> PlatformReport:
        prometheus: dict[str, Any] = {"upgradePolicy": {"auto": "patch"}}
        if chart is not None:
            prometheus["chart"] = chart
        stored = StoredPlatform(
            name=name,
            namespace="team",
            uid="u",
            generation=1,
            published_generation=1,
            spec={"prometheus": prometheus},
            status=PlatformStatus.model_validate(
                {
                    "components": {
                        "prometheus": {"mode": "helm", "state": "InSync", "chartVersion": "29.27.0"}
                    }
                }
            ),
            deleting=False,
        )
        return check_platform(
            "prod",
            stored,
            self.catalog,
            datetime.now(UTC),
            Kubernetes("v1.34.4"),
            sources=self.sources,
        )


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    root = tmp_path / "served"
    (root / "prometheus-community").mkdir(parents=True)
    (root / "prometheus-community" / "index.yaml").write_text(index({"prometheus": PROMETHEUS}))
    secrets = Secrets(
        "team",
        {
            "repo-auth": {"username": "reader", "password": PASSWORD},
            "stale-auth": {"username": "reader", "password": "an-old-password-value"},
            "half-auth": {"username": "reader"},
        },
    )
    access = cast(ClusterAccess, SimpleNamespace(core=secrets))
    with chart_repository(root, credentials=f"reader:{PASSWORD}") as served:
        mirror = f"{served.url}/prometheus-community"
        settings = RepositorySettings(mirrors={UPSTREAM: mirror})
        yield Run(
            RunCatalog.for_run(settings, tmp_path / "cache"), SecretSources(access, "team"), mirror
        )


def published(run: Run, *reports: PlatformReport) -> str:
    """Everything the run makes public: the reports and the fleet summary's repositories."""
    return json.dumps(
        [[r.to_json() for r in reports], dict(run.catalog.fetches), run.catalog.failures()]
    )


def test_a_private_repository_is_checked_with_the_specs_credentials(run: Run) -> None:
    report = run.check("private", {"credentialsSecretRef": {"name": "repo-auth"}})

    [check] = report.components
    assert check.error is None
    assert check.newest_patch is None and check.newest_minor is not None
    assert check.newest_minor.version == "29.28.0"
    assert report.available() == "prometheus 30.0.0 (major)"
    assert PASSWORD not in published(run, report)


def test_the_anonymous_and_the_private_view_of_one_repository_are_kept_apart(run: Run) -> None:
    # Anonymous first: its refusal is remembered for the run, but only for the anonymous view.
    public = run.check("public")
    private = run.check("private", {"credentialsSecretRef": {"name": "repo-auth"}})
    public_again = run.check("public-too")

    assert private.components[0].error is None
    for report in (public, public_again):
        error = report.components[0].error
        assert error is not None and "401" in error and "check its credentials" in error
    assert run.catalog.fetches == {run.mirror: 1, f"{run.mirror} (with credentials)": 1}
    assert list(run.catalog.failures()) == [run.mirror]
    assert PASSWORD not in published(run, public, private, public_again)


def test_other_credentials_are_another_view(run: Run) -> None:
    stale = run.check("stale", {"credentialsSecretRef": {"name": "stale-auth"}})
    current = run.check("current", {"credentialsSecretRef": {"name": "repo-auth"}})

    assert stale.components[0].error is not None and "401" in stale.components[0].error
    assert current.components[0].error is None
    assert set(run.catalog.fetches) == {
        f"{run.mirror} (with credentials)",
        f"{run.mirror} (with credentials #2)",
    }
    assert "an-old-password-value" not in published(run, stale, current)


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("missing-auth", "repository credentials: Secret team/missing-auth does not exist"),
        (
            "half-auth",
            "repository credentials: Secret team/half-auth needs keys username and password",
        ),
    ],
)
def test_a_credentials_problem_is_that_platforms_alone(run: Run, secret: str, problem: str) -> None:
    broken = run.check("broken", {"credentialsSecretRef": {"name": secret}})
    working = run.check("working", {"credentialsSecretRef": {"name": "repo-auth"}})

    assert broken.components[0].error == problem
    assert working.components[0].error is None
    assert run.catalog.failures() == {}
    assert PASSWORD not in published(run, broken, working)

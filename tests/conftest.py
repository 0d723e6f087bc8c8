"""Fixtures shared by every tier of the test suite.

Tiers are folders (``tests/unit``, ``tests/helm``, ``tests/cluster``, ``tests/e2e``) and get the
marker of the same name, so ``pytest -m unit`` runs only the fast tier. Tests that need the local
stack get it from the session-wide ``local_stack`` fixture, which starts it or reuses a running
one; tests across several clusters get the stack's three (``make test`` starts them) from
``fleet``, and a registry of them from ``fleet_registry``. Locally, a stack that cannot start
skips those tests with the reason; under ``CI=true`` it fails them, and any skipped test fails
the run.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.fleet.store import Store
from shared.helm import HelmClient
from shared.kube import ClusterAccess
from shared.localstack import stack as localstack
from shared.localstack import volumes
from shared.localstack.processes import StartupError
from shared.localstack.tools import ProvisionError
from tests.engine_support import Engine, make_engine

TIERS = ("unit", "helm", "cluster", "e2e", "deploy")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
HELM_MAJORS = (3, 4)
# The clusters `make test` and `.ci/run` bring the stack up with: local, local-2, local-3.
FLEET_CLUSTERS = 3


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped and exitstatus == 0:
        # A skipped test is not a passing test.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(f"CI=true: {skipped} skipped test(s) fail the run", red=True)


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the local stack is unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_stack() -> localstack.Stack:
    try:
        return localstack.up()
    except (ProvisionError, StartupError) as error:
        unavailable(f"local stack could not start: {error}")
        raise  # unreachable: unavailable() always raises


@pytest.fixture(scope="session")
def fleet_stack(local_stack: localstack.Stack) -> localstack.Stack:
    """The local stack with at least three clusters: as it runs under ``make test``; when it
    runs fewer, the missing ones are started (and kept, as ``gunj local up --clusters 3`` does)."""
    if len(local_stack.kubeconfigs) >= FLEET_CLUSTERS:
        return local_stack
    try:
        return localstack.up(local_stack.name, clusters=FLEET_CLUSTERS)
    except (ProvisionError, StartupError) as error:
        unavailable(f"the local stack's {FLEET_CLUSTERS} clusters could not start: {error}")
        raise  # unreachable: unavailable() always raises


@pytest.fixture(scope="session")
def fleet(fleet_stack: localstack.Stack) -> dict[str, ClusterAccess]:
    """Access to each of the stack's clusters by the name it is registered under: ``local``,
    ``local-2``, ``local-3`` (each a cluster of its own: API server, etcd, nodes)."""
    return {name: ClusterAccess(path) for name, path in fleet_stack.kubeconfigs.items()}


@pytest.fixture
def fleet_registry(fleet_stack: localstack.Stack, tmp_path: Path) -> Path:
    """A cluster registry file of the test's own naming every cluster of the stack, in the
    waves ``gunj local up`` registers them in (local canary, local-2 early, the others main);
    point ``GUNJ_CLUSTERS`` at it."""
    from tests.fleet_support import fleet_registry_file

    return fleet_registry_file(fleet_stack.kubeconfigs, tmp_path / "fleet-clusters.yaml")


@pytest.fixture(scope="session")
def kubeconfig(local_stack: localstack.Stack) -> Path:
    return local_stack.kubeconfig


@pytest.fixture(scope="session")
def cluster(local_stack: localstack.Stack) -> ClusterAccess:
    return ClusterAccess(local_stack.kubeconfig)


@pytest.fixture(scope="session")
def pubsub_host(local_stack: localstack.Stack) -> str:
    return local_stack.pubsub_host


@pytest.fixture
def namespace(request: pytest.FixtureRequest, cluster: ClusterAccess) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting for it to go)."""
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"t-{stem}-{uuid.uuid4().hex[:6]}"
    cluster.ensure_namespace(name, labels={"gunj.io/test": "true"})
    # Claims bind to static volumes only: keep the pool full for this test.
    volumes.replenish(cluster)
    yield name
    cluster.delete_namespace(name)


@pytest.fixture(params=HELM_MAJORS, ids=[f"helm{major}" for major in HELM_MAJORS])
def helm(
    request: pytest.FixtureRequest,
    local_stack: localstack.Stack,
    tmp_path_factory: pytest.TempPathFactory,
) -> HelmClient:
    """A Helm client per major version: tests using it run once with Helm 3, once with Helm 4."""
    major: int = request.param
    return HelmClient.for_path(
        local_stack.helm[major],
        home=tmp_path_factory.mktemp(f"helm{major}-home"),
        plain_http_registries=frozenset({f"127.0.0.1:{local_stack.ports.oci}"}),
    )


@pytest.fixture(scope="session")
def engine_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Charts, indexes and version resolutions, shared by the engine tests of a session."""
    return tmp_path_factory.mktemp("engine-cache")


@pytest.fixture
def engine(
    helm: HelmClient, local_stack: localstack.Stack, tmp_path: Path, engine_cache: Path
) -> Engine:
    """The reconcile engine on the local cluster, once with Helm 3 and once with Helm 4."""
    return make_engine(helm, local_stack, tmp_path, engine_cache)


@pytest.fixture
def engine_helm3(local_stack: localstack.Stack, tmp_path: Path, engine_cache: Path) -> Engine:
    """The reconcile engine with Helm 3 only, for what does not depend on Helm's major."""
    helm = HelmClient.for_path(local_stack.helm[3], home=tmp_path / "helm-home")
    return make_engine(helm, local_stack, tmp_path, engine_cache)


@pytest.fixture(scope="session")
def firestore_host(local_stack: localstack.Stack) -> str:
    """The local stack's Firestore emulator, which the fleet tests use: asked once first, with
    time to spare, since a freshly started emulator's JVM takes longer to answer its first
    requests than the store's deadline allows a function."""
    from tests.fleet_support import warm_up

    warm_up(local_stack.firestore_host)
    return local_stack.firestore_host


@pytest.fixture
def fleet_store(firestore_host: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A fleet store of the test's own (a project id of its own: the emulator keeps projects
    apart), named by the process environment as a function's would name it."""
    from tests.fleet_support import store_of_own

    return store_of_own(firestore_host, monkeypatch)

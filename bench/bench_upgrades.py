"""An upgrade check of 100 platforms (four components each) against the local repositories:
the whole run's time, and the repository requests it makes (the goal: one per repository).

    .venv/bin/python bench/bench_upgrades.py [--platforms 100] [--rounds 5]

The platforms are objects with a status that says what runs (no releases are installed: the
check reads specs and status, not releases). The repositories are served by the project's chart
server with a request log, mirroring the upstream ones. Needs the local stack. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.engine.resource import apply_platform, ensure_crd, write_status
from shared.helm.repositories import RepositorySettings, known_repositories
from shared.kube import ClusterAccess
from shared.localstack import stack as localstack
from shared.upgrades.catalog import RunCatalog
from shared.upgrades.run import check_fleet
from shared.values.spec.status import PlatformStatus
from shared.values.validation import validate
from tests.servers import chart_repository

RUNNING = {"prometheus": "29.26.0", "loki": "18.10.0", "tempo": "2.2.3", "grafana": "12.11.0"}
SPEC = {
    "prometheus": {"storage": {"enabled": False}},
    "loki": {},
    "tempo": {"upgradePolicy": {"auto": "patch", "minimumReleaseAge": 0}},
    "grafana": {"adminCredentials": {"existingSecret": "admin"}},
}


def populate(access: ClusterAccess, namespace: str, count: int) -> None:
    ensure_crd(access)
    access.ensure_namespace(namespace)
    status = PlatformStatus.model_validate(
        {
            "phase": "Ready",
            "components": {
                c: {"mode": "helm", "state": "InSync", "chart": c, "chartVersion": v}
                for c, v in RUNNING.items()
            },
        }
    )
    for index in range(count):
        document = {
            "apiVersion": "observability.io/v1beta1",
            "kind": "ObservabilityPlatform",
            "metadata": {"name": f"p{index}", "namespace": namespace},
            "spec": SPEC,
        }
        platform = validate(document).platform
        assert platform is not None
        apply_platform(access, platform, generation=None, source="bench")
        write_status(access, namespace, f"p{index}", status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platforms", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    running = localstack.up()
    access = ClusterAccess(running.kubeconfig)
    namespace = f"bench-upgrades-{uuid.uuid4().hex[:6]}"
    print(f"creating {arguments.platforms} platforms in {namespace} ...")
    populate(access, namespace, arguments.platforms)
    known = known_repositories()
    try:
        with (
            chart_repository(running.folder / "charts") as served,
            tempfile.TemporaryDirectory() as cache,
        ):
            settings = RepositorySettings(
                mirrors={
                    known["prometheus-community"].url: f"{served.url}/prometheus-community",
                    known["grafana-community"].url: f"{served.url}/grafana-community",
                }
            )
            times, requests = [], []
            for _ in range(arguments.rounds):
                before = len(served.requests)
                catalog = RunCatalog.for_run(settings, Path(cache))
                started = time.perf_counter()
                reports, failed = check_fleet(["local"], lambda _: access, catalog)
                times.append(time.perf_counter() - started)
                requests.append(len(served.requests) - before)
                mine = [r for r in reports if r.namespace == namespace]
                assert len(mine) == arguments.platforms and not failed
            full = [code for _, code in served.requests[: requests[0]]]
            later = [code for _, code in served.requests[requests[0] :]]
    finally:
        access.delete_namespace(namespace)
    components = arguments.platforms * len(RUNNING)
    print(
        f"\nupgrade check of {arguments.platforms} platforms x {len(RUNNING)} components "
        f"({components} component checks), 2 repositories, {arguments.rounds} runs:"
    )
    print(
        f"  median run               {statistics.median(times) * 1000:8.1f} ms "
        f"({statistics.median(times) / components * 1e6:.0f} us per component)"
    )
    print(
        f"  first run                {times[0] * 1000:8.1f} ms (index downloaded: "
        f"{full.count(200)} x 200)"
    )
    print(
        f"  repository requests/run  {', '.join(str(r) for r in requests)} (goal: 1 per repository)"
    )
    print(
        f"  later runs revalidate    {later.count(304)} x 304 Not Modified, "
        f"{later.count(200)} x 200"
    )


if __name__ == "__main__":
    main()

"""Keeps the local cluster's pool of static volumes full while the stack runs.

The cluster has no storage provisioner (see :mod:`.volumes`), so every claim binds to a volume of
the pool; without a keeper, a stack that serves more platforms than the pool holds would leave
claims Pending until the next ``gunj local up``. The keeper tops the pool up and deletes released
volumes every few seconds. Run as ``python -m shared.localstack.volumekeeper --kubeconfig F``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from ..kube import ClusterAccess
from . import volumes

INTERVAL = 2.0
log = logging.getLogger("gunj.volumekeeper")


def keep(access: ClusterAccess, interval: float = INTERVAL) -> None:
    while True:
        try:
            created = volumes.replenish(access)
        except Exception as error:  # the API server restarts; the keeper stays
            log.warning("could not top up the volume pool: %s", error)
        else:
            if created:
                log.info("created %d volume(s)", created)
        time.sleep(interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    keep(ClusterAccess(arguments.kubeconfig))


if __name__ == "__main__":
    main()

"""The ``resync`` function: a scheduled tick on ``resync-ticks`` asks every platform of every
registered cluster (a message may narrow it: ``{"clusters": [...], "namespaces": [...]}``) to be
reconciled from the spec its cluster holds: one message per platform on ``platform-specs``
(``action: resync``), so the fleet is worked by as many function instances as Pub/Sub starts,
through the same engine path, Lease, deadlines and outcomes as a spec change. Drift is found
and corrected there.

The clusters are listed at once, each with its own time: one that cannot be reached is named in
the summary and holds up no other. The tick is always acknowledged: the next one comes anyway.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..documents import DocumentError
from ..engine.resource import list_platforms
from ..errors import GunjError
from ..events.pubsub import InvalidEvent, from_cloud_event
from .outcomes import Redeliver, publisher, report, request_headers, trace_of
from .reconcilers import reconciler, registry
from .rollout_steps import on_tick
from .topics import SPECS

FUNCTION = "resync"
LISTING_WORKERS = 8


def _scope(event: Any) -> tuple[list[str] | None, set[str] | None]:
    """The clusters and namespaces a tick names (None: every one)."""
    try:
        message = from_cloud_event(event)
        data = message.tick()
    except (InvalidEvent, DocumentError):
        return None, None  # a tick with anything else in it resyncs everything
    if not isinstance(data, dict):
        return None, None
    clusters, namespaces = data.get("clusters"), data.get("namespaces")
    return (
        [str(c) for c in clusters] if isinstance(clusters, list) else None,
        {str(n) for n in namespaces} if isinstance(namespaces, list) else None,
    )


def handle(event: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Ask every platform for a resync; return the summary (published to
    ``platform-events`` and logged as one line)."""
    env = os.environ if env is None else env
    started = time.monotonic()
    asked, namespaces = _scope(event)
    known = registry(env).names()
    names = known if asked is None else [c for c in asked if c in known]

    def listed(cluster: str) -> tuple[str, list[tuple[str, str]] | str]:
        try:
            found = list_platforms(reconciler(cluster, env).access)
        except GunjError as error:
            return cluster, str(error)
        return cluster, [
            (p.namespace, p.name) for p in found if namespaces is None or p.namespace in namespaces
        ]

    with ThreadPoolExecutor(max(1, min(LISTING_WORKERS, len(names)))) as pool:
        results = list(pool.map(listed, names))
    out = publisher(env)
    queued, unreachable = 0, {}
    for cluster, platforms in results:
        if isinstance(platforms, str):
            unreachable[cluster] = platforms
            continue
        for namespace, name in platforms:
            document = {"metadata": {"namespace": namespace, "name": name}}
            try:
                out.publish(SPECS, document, cluster=cluster, action="resync", source="resync")
            except Redeliver as error:
                unreachable[cluster] = f"not asked: {error}"
                break
            queued += 1
    summary = {
        "kind": "resync",
        "result": "ready" if not unreachable else "error",
        "message": f"{queued} platform(s) of {len(names) - len(unreachable)} cluster(s) asked "
        "to resync" + (f"; not reached: {', '.join(sorted(unreachable))}" if unreachable else ""),
        "checked_at": datetime.now(UTC).isoformat(),
        "clusters": names,
        "cluster_errors": unreachable,
        "platforms": queued,
        "transient": False,  # the next tick asks again: delivering this one again adds nothing
        "duration": round(time.monotonic() - started, 3),
    }
    # The tick moves the fleet's rollouts on too: a wave whose bake has passed since the last
    # platform's outcome is done now, and the next one starts.
    if (stepped := on_tick(FUNCTION, env)) is not None:
        summary["rollouts"] = stepped
    report(FUNCTION, summary, trace=trace_of(event, request_headers()), env=env)
    return summary

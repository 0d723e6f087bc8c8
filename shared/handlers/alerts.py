"""What the rollback functions do with each alert: find the component it is about and let the
engine judge it (:meth:`shared.engine.reconciler.Reconciler.roll_back_for_alert`), waiting for
the judgement until the work's deadline at most (:func:`.deadline.run_until`); the outcome
document of each alert. An alert that came with a token (the ``alertmanager`` function) is
refused, before anything reads its cluster, when it names a cluster the token may not act on."""

from __future__ import annotations

import time
from collections.abc import Mapping, Set
from typing import Any

from ..engine.alert_target import NoTarget, find_target, named_cluster
from ..engine.outcome import Outcome
from ..engine.request import Request
from ..errors import GunjError
from ..events.alerts import Alert
from .deadline import Overran, run_until, work_deadline, work_seconds
from .fleet import FleetWide, quarantine_fleet_wide, record_summary
from .outcomes import unexpected
from .reconcilers import access, reconciler, registry


def judge(
    alert: Alert, env: Mapping[str, str], started: float, allowed: Set[str] | None = None
) -> dict[str, Any]:
    """The outcome document for one alert (never raises: an exception nothing foresaw is a
    transient outcome of this alert, and the others of its message are still judged).
    ``allowed``: the registered names of the clusters the alert's token may act on (None: the
    alert came another way, where no token is involved)."""
    halted: tuple[str, ...] = ()
    if not alert.firing:
        outcome = Outcome("ignored", f"{alert.describe()} is resolved: nothing to do")
    else:
        try:
            judged = run_until(
                work_deadline(env, started),
                lambda: _act(alert, env, started, allowed),
                f"the judgement of {alert.describe()}",
                work_seconds(env),
            )
            outcome, halted = judged.outcome, judged.halted
        except Overran as error:
            outcome = Outcome("error", str(error), transient_error=True)
        except Exception as error:
            outcome = unexpected(error)
    document = {
        **outcome.to_json(),
        "duration": round(time.monotonic() - started, 3),
        "alert": alert.key,
        "alert_name": alert.name,
        "alert_source": alert.source,
        **({"rollouts_halted": list(halted)} if halted else {}),
    }
    record_summary(document, env)
    return document


def _act(
    alert: Alert, env: Mapping[str, str], started: float, allowed: Set[str] | None
) -> FleetWide:
    """The engine's judgement of the alert; a rollback is then held on every cluster and halts
    the rollouts of the version it returned from (:func:`.fleet.quarantine_fleet_wide`)."""
    try:
        if allowed is not None:
            cluster = named_cluster(alert, registry(env))
            if cluster not in allowed:
                return FleetWide(
                    Outcome(
                        "refused",
                        f"{alert.describe()} names cluster {cluster!r}, which its token may not "
                        f"act on (the token is listed in the alertTokens of "
                        f"{', '.join(sorted(allowed))} only): nothing was done",
                        cluster=cluster,
                    )
                )
        target = find_target(
            alert, registry(env), lambda name, namespace: access(name, env, namespace)
        )
        engine = reconciler(target.cluster, env)
    except NoTarget as error:
        return FleetWide(Outcome("invalid", str(error)))
    except GunjError as error:
        return FleetWide(Outcome("error", str(error), transient_error=error.transient))
    request = Request(source=alert.key, deadline=work_deadline(env, started))
    outcome = engine.roll_back_for_alert(target, alert, request)
    return quarantine_fleet_wide(outcome, alert.key, env)

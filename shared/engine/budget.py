"""How long a component's Helm operations may take, from its spec.

Helm applies ``--timeout`` to each phase of an operation on its own (every hook, the wait for
resources, the tests), so an upgrade with two hooks may run for three times its timeout. gunj
gives each operation one deadline instead: ``timeout`` (or the hooks' longer ``hooks.timeout``)
covers the whole operation, hooks included; the Helm process is stopped when it passes
(:meth:`shared.helm.client.HelmClient.run`), and the deadline is recorded on the release so a
later reconcile knows when a pending release can no longer have a live Helm behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..values.spec.common import ComponentSpec
from ..values.types import to_timedelta


@dataclass(frozen=True)
class OperationBudget:
    no_hooks: bool
    timeout: timedelta
    """The whole install, upgrade, rollback or uninstall, hooks included."""
    test_timeout: timedelta
    """The whole verification: workloads, gunj's probe and the chart's own tests."""


def operation_budget(spec: ComponentSpec) -> OperationBudget:
    timeout = to_timedelta(spec.timeout)
    if not spec.hooks.enabled:
        return OperationBudget(True, timeout, to_timedelta(spec.tests.timeout))
    if spec.hooks.timeout:
        timeout = max(timeout, to_timedelta(spec.hooks.timeout))
    return OperationBudget(False, timeout, to_timedelta(spec.tests.timeout))

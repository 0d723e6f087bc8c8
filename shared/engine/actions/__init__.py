"""One module per action. An action runs its Helm (or Kubernetes) operation and reports what
happened (:class:`~shared.engine.action.ActionResult`), read back from the release's storage;
it never decides whether to act or what comes next (:mod:`shared.engine.decide` does)."""

from __future__ import annotations

from collections.abc import Callable

from ..action import Action, ActionResult
from ..context import EngineContext
from . import correct, install, rollback, uninstall, unlock, upgrade, verify
from .step import Step

RUNNERS: dict[Action, Callable[[EngineContext, Step], ActionResult]] = {
    Action.INSTALL: install.run,
    Action.UPGRADE: upgrade.run,
    Action.VERIFY: verify.run,
    Action.ROLLBACK: rollback.run,
    Action.UNLOCK: unlock.run,
    Action.UNINSTALL: uninstall.run,
    Action.CORRECT: correct.run,
}

__all__ = ["RUNNERS", "Step"]

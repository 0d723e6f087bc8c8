"""functions-framework serving a function, as ``functions-framework --source ... --target ...``
runs it, with timers on what a cold instance's first event pays for (used by
``bench_functions.py``; not a part of gunj).

    python bench/cold_instance.py TIMINGS_FILE -- <functions-framework arguments>

Every interval below is written to ``TIMINGS_FILE`` (one JSON line each: what, start and end
on the wall clock), for the bench to lay over the event's round trip:

- ``import``: a module's execution (nested ones inside it), whichever thread imports it;
- ``request``: a request to the API server (:meth:`TypedApiClient.call_api`);
- ``kubeconfig``: the API client made from the cluster's kubeconfig (``ClusterAccess.api``);
- ``reconciler``: the cluster found in the registry and its reconciler made;
- ``apply``: the engine's work (``Reconciler.apply``);
- ``report``: the outcome published and logged;
- ``handle``: the handler, from the event decoded to the outcome reported.

Nothing of gunj is imported before the framework imports the entry point, and the entry point
imports nothing of gunj before its first event: the timers are put on each module as it is
first imported.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

_LOCK = threading.Lock()
_OUT: Any = None


def _record(what: str, start: float, end: float, detail: str = "") -> None:
    line = {"what": what, "start": start, "end": end, "detail": detail}
    with _LOCK:
        _OUT.write(json.dumps(line) + "\n")
        _OUT.flush()


def _timed(what: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.time()
        try:
            return function(*args, **kwargs)
        finally:
            # A request's method and path (no query: it may name a label selector only).
            detail = " ".join(str(a).split("?")[0] for a in args[1:3]) if what == "request" else ""
            _record(what, start, time.time(), detail)

    return timed


def _time_api_property(module: ModuleType) -> None:
    access = module.ClusterAccess
    made = access.api.fget

    def api(self: Any) -> Any:
        if self._api is not None:
            return self._api
        return _timed("kubeconfig", made)(self)

    access.api = property(api, doc=access.api.__doc__)


def _time_method(cls: str, method: str, what: str) -> Callable[[ModuleType], None]:
    def put(module: ModuleType) -> None:
        owner = getattr(module, cls)
        setattr(owner, method, _timed(what, getattr(owner, method)))

    return put


def _time_function(name: str, what: str) -> Callable[[ModuleType], None]:
    def put(module: ModuleType) -> None:
        setattr(module, name, _timed(what, getattr(module, name)))

    return put


# Each module's timers, put on as the module is first imported.
_TIMERS: dict[str, Callable[[ModuleType], None]] = {
    "shared.kube.client": _time_method("TypedApiClient", "call_api", "request"),
    "shared.kube.access": _time_api_property,
    "shared.handlers.reconcile": _time_function("handle", "handle"),
    "shared.handlers.reconcilers": _time_function("reconciler", "reconciler"),
    "shared.engine.reconciler": _time_method("Reconciler", "apply", "apply"),
    "shared.handlers.outcomes": _time_function("report", "report"),
}


class _TimedLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        start = time.time()
        try:
            self.loader.exec_module(module)
        finally:
            _record("import", start, time.time(), module.__name__)
        if (put := _TIMERS.get(module.__name__)) is not None:
            # Before any module that imports a name from it has done so.
            put(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class _TimedFinder(importlib.abc.MetaPathFinder):
    """Finds each module as the rest of ``sys.meta_path`` does, and times its execution."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _TimedLoader(spec.loader)
                return spec
        return None


def main() -> None:
    global _OUT  # noqa: PLW0603 - one timings file per process
    separator = sys.argv.index("--")
    _OUT = Path(sys.argv[1]).open("a")  # noqa: SIM115 - open while the process runs
    sys.argv = ["functions-framework", *sys.argv[separator + 1 :]]
    sys.meta_path.insert(0, _TimedFinder())
    from functions_framework._cli import _cli

    _cli()


if __name__ == "__main__":
    main()

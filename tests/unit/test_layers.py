"""Imports run one way: entry points and the command line stand on the engine, the engine on
values, Helm and cluster access, and those on the few base modules. A module that imports
upward (Helm reading the spec model, values reading Helm) fails here, naming the import."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each package may import from shared (besides itself and the base modules).
ALLOWED: dict[str, set[str]] = {
    "kube": set(),
    "values": set(),
    "helm": {"kube"},
    "events": set(),
    "telemetry": set(),
    "clusters": {"kube"},
    "native": {"values", "kube", "helm"},  # its revisions are kept in Helm's storage format
    "engine": {"values", "helm", "kube", "events", "clusters", "native"},
    # The fleet store: summaries of the platforms the engine keeps, quarantines it holds.
    "fleet": {"engine", "values", "helm", "kube", "clusters"},
    "upgrades": {"engine", "fleet", "values", "helm", "kube", "events", "clusters"},
    "handlers": {
        "engine",
        "fleet",
        "upgrades",
        "values",
        "helm",
        "kube",
        "events",
        "clusters",
        "telemetry",
    },
    # The Flux benchmark's HelmReleases carry the values gunj's plan gives Helm.
    "localstack": {"helm", "kube", "clusters", "packaging", "handlers", "telemetry", "values"},
    "cli": {
        "engine",
        "fleet",
        "upgrades",
        "handlers",
        "values",
        "helm",
        "kube",
        "events",
        "clusters",
        "localstack",
        "packaging",
    },
}
BASE = {
    "errors",
    "versions",
    "timestamps",
    "cache",
    "redaction",
    "labels",
    "documents",
    "yamlio",
}


def _imported_packages(path: Path) -> set[str]:
    """The shared.<package> names a module imports (absolute or relative)."""
    tree = ast.parse(path.read_text())
    relative_root = path.relative_to(ROOT / "shared").parts
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(relative_root[: len(relative_root) - node.level])
                module = [*base, *(node.module.split(".") if node.module else [])]
                if not module:
                    module = [alias.name for alias in node.names][:1]
                names = [".".join(module)]
            elif node.module and node.module.startswith("shared."):
                names = [node.module.removeprefix("shared.")]
        elif isinstance(node, ast.Import):
            names = [
                a.name.removeprefix("shared.") for a in node.names if a.name.startswith("shared.")
            ]
        for name in names:
            found.add(name.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(package: str) -> None:
    folder = ROOT / "shared" / package
    if not folder.is_dir():
        pytest.fail(f"shared/{package} is missing")
    wrong = []
    for path in sorted(folder.rglob("*.py")):
        for imported in _imported_packages(path) - {package} - BASE - ALLOWED[package]:
            wrong.append(f"{path.relative_to(ROOT)} imports shared.{imported}")
    assert not wrong, "\n".join(wrong)


def test_entry_points_import_only_their_handlers() -> None:
    for path in sorted((ROOT / "functions").glob("*/main.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("shared."):
                package = module.split(".")[1]
                assert package in {"events", "handlers"}, f"{path}: imports {module}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports_of(path: Path, modules: set[str]) -> set[str]:
    """The modules of shared that ``path`` imports, anywhere in it (at the top, under
    TYPE_CHECKING or inside a function: an import that dodges a circle is still part of it)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            for alias in node.names:
                # `from package import module` imports the module; `from module import name`
                # imports the module that defines the name.
                target = f"{origin}.{alias.name}"
                found.add(target if target in modules else origin)
    return found & modules


def test_no_module_of_shared_imports_itself_in_a_circle() -> None:
    paths = [p for p in sorted((ROOT / "shared").rglob("*.py")) if "gomod" not in p.parts]
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imports_of(p, modules) - {_module_name(p)} for p in paths}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as circle:
        pytest.fail("an import circle: " + " -> ".join(circle.args[1]))


# The judgement at the engine's core reads its arguments and nothing else: it may import only
# these (data, and other pure judgement), never a module that talks to a cluster, to a
# repository or to a Helm process.
PURE = {
    "action",
    "admission",
    "alert_policy",
    "classify",
    "conditions",
    "decide",
    "quarantine",
    "remediation",
    "outcome",
}
PURE_MAY_IMPORT = {
    *(f"shared.engine.{name}" for name in PURE),
    "shared.engine.budget",
    "shared.engine.desired",
    "shared.engine.errors",
    "shared.engine.live.paths",  # the live check's findings, as data
    "shared.engine.live.state",
    "shared.engine.resource",  # StoredPlatform, the data read back
    "shared.errors",
    "shared.events.alerts",
    "shared.helm.digest",
    "shared.helm.errors",
    "shared.helm.releases",  # ObservedRelease, the data read back
    "shared.kube.keys",
    "shared.labels",
    "shared.versions",
}


@pytest.mark.parametrize("name", sorted(PURE))
def test_the_engines_judgement_imports_no_module_that_acts(name: str) -> None:
    paths = [p for p in sorted((ROOT / "shared").rglob("*.py")) if "gomod" not in p.parts]
    modules = {_module_name(p) for p in paths}
    path = ROOT / "shared" / "engine" / f"{name}.py"
    wrong = {
        module
        for module in _imports_of(path, modules)
        if module not in PURE_MAY_IMPORT and not module.startswith("shared.values")
    }
    assert not wrong, f"shared/engine/{name}.py imports {sorted(wrong)}"

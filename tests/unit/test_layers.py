"""Imports run one way: entry points and the command line stand on the engine, the engine on
values, Helm and cluster access, and those on the few base modules. A module that imports
upward (Helm reading the spec model, values reading Helm) fails here, naming the import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each package may import from shared (besides itself and the base modules).
ALLOWED: dict[str, set[str]] = {
    "kube": set(),
    "values": set(),
    "helm": {"kube"},
    "events": set(),
    "clusters": {"kube"},
    "native": {"values", "kube", "helm"},  # its revisions are kept in Helm's storage format
    "engine": {"values", "helm", "kube", "events", "clusters", "native"},
    "upgrades": {"engine", "values", "helm", "kube", "events", "clusters"},
    "handlers": {"engine", "upgrades", "values", "helm", "kube", "events", "clusters"},
    "localstack": {"helm", "kube", "clusters", "packaging", "handlers"},
    "cli": {
        "engine",
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
BASE = {"errors", "versions", "timestamps", "cache", "redaction"}


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

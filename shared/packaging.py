"""Deployable source archives of the functions, built reproducibly.

Each archive holds what Cloud Functions builds from: the function's ``main.py`` at the root, the
``shared`` package (without the parts only a workstation uses: the local stack and the command
line), ``requirements.txt`` with every runtime dependency pinned, and, unless left out, a Helm
binary at ``bin/helm`` (the functions find it there, or at ``GUNJ_HELM_BINARY``: a deployment
that provides Helm itself, e.g. from a layer of its own, builds with ``--helm none``).

The same inputs give the same bytes: entries are sorted, timestamps fixed and permissions
normalised, so an archive's digest identifies its content and Terraform redeploys only on change.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("reconcile", "rollback", "upgrades", "resync", "alertmanager")
LOCK_FILE = ROOT / "functions" / "requirements.txt"
# Workstation-only parts of the shared package.
EXCLUDED = ("shared/localstack", "shared/cli", "shared/packaging.py")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
HELM_PATH = "bin/helm"


@dataclass(frozen=True)
class Archive:
    function: str
    path: Path
    sha256: str
    size: int


def _shared_files() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "shared").rglob("*")):
        name = path.relative_to(ROOT).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        if any(name == prefix or name.startswith(prefix + "/") for prefix in EXCLUDED):
            continue
        yield name, path


def _entry(name: str, executable: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.create_system = 3  # Unix, so the permissions above are read as such
    return info


def build(function: str, output: Path, helm: Path | None) -> Archive:
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; one of {', '.join(FUNCTIONS)}")
    if not LOCK_FILE.is_file():
        raise FileNotFoundError(f"{LOCK_FILE} is missing: run `gunj package --lock`")
    files: list[tuple[str, bytes, bool]] = [
        ("main.py", (ROOT / "functions" / function / "main.py").read_bytes(), False),
        ("requirements.txt", LOCK_FILE.read_bytes(), False),
    ]
    files += [(name, path.read_bytes(), False) for name, path in _shared_files()]
    if helm is not None:
        files.append((HELM_PATH, helm.read_bytes(), True))
    output.mkdir(parents=True, exist_ok=True)
    target = output / f"{function}.zip"
    with zipfile.ZipFile(target, "w", compresslevel=9) as archive:
        for name, content, executable in sorted(files):
            archive.writestr(_entry(name, executable), content)
    content = target.read_bytes()
    return Archive(function, target, hashlib.sha256(content).hexdigest(), len(content))


def runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements: list[str] = project["dependencies"]
    return requirements


def resolve(requirements: list[str]) -> list[dict[str, Any]]:
    """What pip would install for ``requirements`` (wheels only), from its installation report:
    each package's metadata and the hash of the file it would download."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--only-binary=:all:",
                "--report",
                str(report),
                *requirements,
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"pip could not resolve {' '.join(requirements)}: {result.stderr.strip()[-2000:]}"
            )
        resolved: list[dict[str, Any]] = json.loads(report.read_text())["install"]
    return resolved


def lock() -> list[str]:
    """Resolve the runtime dependencies to exact versions (pip's own resolver) and write them."""
    resolved = resolve(runtime_requirements())
    pins = sorted(
        f"{item['metadata']['name'].lower()}=={item['metadata']['version']}" for item in resolved
    )
    header = (
        "# Runtime dependencies of the functions, pinned. Regenerate with `gunj package --lock`.\n"
    )
    LOCK_FILE.write_text(header + "\n".join(pins) + "\n")
    return pins

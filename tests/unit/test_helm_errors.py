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


# --- An exceeded ResourceQuota: transient, unless a permanent cause comes with it. ---

QUOTA = [
    pytest.param(
        "install",
        "Error: INSTALLATION FAILED: 1 error occurred:\n"
        '\t* configmaps "x-prometheus-server" is forbidden: exceeded quota: q-cm, requested: '
        "count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=0\n\n\n",
        'INSTALLATION FAILED: quota q-cm exceeded by configmaps "x-prometheus-server": requested '
        "count/configmaps=1, used count/configmaps=1, limited to count/configmaps=0",
        id="helm3-install-configmap",
    ),
    pytest.param(
        "install",
        "Error: INSTALLATION FAILED: server-side apply failed for object "
        'h10-q/x-prometheus-server /v1, Kind=ConfigMap: configmaps "x-prometheus-server" is '
        "forbidden: exceeded quota: q-cm, requested: count/configmaps=1, used: "
        "count/configmaps=1, limited: count/configmaps=0",
        'INSTALLATION FAILED: quota q-cm exceeded by configmaps "x-prometheus-server": requested '
        "count/configmaps=1, used count/configmaps=1, limited to count/configmaps=0",
        id="helm4-install-configmap",
    ),
    pytest.param(
        "install",
        'Error: INSTALLATION FAILED: create: failed to create: secrets "sh.helm.release.v1.x.v1" '
        "is forbidden: exceeded quota: q-secrets, requested: count/secrets=1, used: "
        "count/secrets=0, limited: count/secrets=0",
        'INSTALLATION FAILED: quota q-secrets exceeded by secrets "sh.helm.release.v1.x.v1": '
        "requested count/secrets=1, used count/secrets=0, limited to count/secrets=0",
        id="helm3+4-install-release-record",
    ),
    pytest.param(
        "test",
        "Error: warning: Hook test prometheus/templates/tests/test-server.yaml failed: 1 error "
        "occurred:\n"
        '\t* pods "ok-prometheus-server-test" is forbidden: exceeded quota: q-pods, requested: '
        "pods=1, used: pods=14, limited: pods=0\n\n\n",
        "Hook test prometheus/templates/tests/test-server.yaml failed: quota q-pods exceeded by "
        'pods "ok-prometheus-server-test": requested pods=1, used pods=14, limited to pods=0',
        id="helm3-test-pod",
    ),
    pytest.param(
        "test",
        "Error: warning: Hook test prometheus/templates/tests/test-server.yaml failed: "
        "server-side apply failed for object h10-t4/ok-prometheus-server-test /v1, Kind=Pod: pods "
        '"ok-prometheus-server-test" is forbidden: exceeded quota: q-pods, requested: pods=1, '
        "used: pods=14, limited: pods=0",
        "Hook test prometheus/templates/tests/test-server.yaml failed: quota q-pods exceeded by "
        'pods "ok-prometheus-server-test": requested pods=1, used pods=14, limited to pods=0',
        id="helm4-test-pod",
    ),
]


@pytest.mark.parametrize(("verb", "stderr", "message"), QUOTA)
def test_exceeded_quota_is_transient_and_says_which_quota(
    verb: str, stderr: str, message: str
) -> None:
    error = errors.classify(stderr, ["helm", verb, "x"])

    assert isinstance(error, errors.QuotaExceeded)
    assert error.transient
    assert str(error) == message
    assert len(error.quotas) == 1
    assert error.quotas[0] in message


@pytest.mark.parametrize(
    "stderr",
    [
        pytest.param(
            "Error: INSTALLATION FAILED: 2 errors occurred:\n"
            '\t* configmaps "mix3-prometheus-server" is forbidden: exceeded quota: q-cm, '
            "requested: count/configmaps=1, used: count/configmaps=1, limited: "
            "count/configmaps=0\n"
            '\t* ConfigMap "mix3-prometheus-broken" is invalid: data[this key is not valid!]: '
            'Invalid value: "this key is not valid!": a valid config key must consist of '
            "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
            "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')\n\n\n",
            id="helm3",
        ),
        pytest.param(
            "Error: INSTALLATION FAILED: server-side apply failed for object "
            "h10-mix/mix4-prometheus-broken /v1, Kind=ConfigMap: ConfigMap "
            '"mix4-prometheus-broken" is invalid: data[this key is not valid!]: Invalid value: '
            '"this key is not valid!": a valid config key must consist of alphanumeric '
            "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex "
            "used for validation is '[-._a-zA-Z0-9]+')\n"
            "server-side apply failed for object h10-mix/mix4-prometheus-server /v1, "
            'Kind=ConfigMap: configmaps "mix4-prometheus-server" is forbidden: exceeded quota: '
            "q-cm, requested: count/configmaps=1, used: count/configmaps=1, limited: "
            "count/configmaps=0",
            id="helm4",
        ),
    ],
)
def test_quota_beside_a_rejected_object_is_permanent(stderr: str) -> None:
    # A freed quota would not make the invalid object acceptable: retrying cannot help.
    error = errors.classify(stderr, ["helm", "install", "x"])

    assert type(error) is errors.ResourceRejected
    assert not error.transient


@pytest.mark.parametrize(
    "stderr",
    [
        pytest.param(
            "Error: warning: Hook test prometheus/templates/tests/test-server.yaml failed: 1 "
            "error occurred:\n"
            '\t* pods "ok-prometheus-server-test" is forbidden: failed quota: compute: must '
            "specify limits.cpu for: test; requests.memory for: test\n\n\n",
            id="helm3",
        ),
        pytest.param(
            "Error: warning: Hook test prometheus/templates/tests/test-server.yaml failed: "
            "server-side apply failed for object h10-t4/ok-prometheus-server-test /v1, Kind=Pod: "
            'pods "ok-prometheus-server-test" is forbidden: failed quota: compute: must specify '
            "limits.cpu for: test; requests.memory for: test",
            id="helm4",
        ),
    ],
)
def test_pod_without_the_requests_a_quota_demands_is_the_charts_to_fix(stderr: str) -> None:
    assert type(errors.classify(stderr, ["helm", "test", "x"])) is errors.ResourceRejected


def test_pods_a_quota_keeps_from_starting_are_a_timeout() -> None:
    # Helm creates the Deployment; its ReplicaSet meets the quota, and Helm only sees the wait
    # run out (Helm 4 --wait=watcher, pods: "0").
    stderr = (
        "Error: INSTALLATION FAILED: resource DaemonSet/h10-q2/x-prometheus-prometheus-node-"
        "exporter not ready. status: InProgress, message: Current: 0/3\n"
        "resource Deployment/h10-q2/x-prometheus-server not ready. status: InProgress, message: "
        "Replicas: 0/1\n"
        "context deadline exceeded"
    )

    assert type(errors.classify(stderr, ["helm", "install", "x"])) is errors.HelmTimeout


def test_a_hook_that_never_completed_is_a_timeout_not_a_failed_hook() -> None:
    # Helm 4 names the hook's pod, still in progress, on a line of its own before the cause.
    stderr = (
        "Error: INSTALLATION FAILED: failed pre-install: resource Pod/ns/stuck-tempo-stuck-hook "
        "not ready. status: InProgress, message: Pod in progress\n"
        "context deadline exceeded"
    )

    assert type(errors.classify(stderr, ["helm", "install", "x"])) is errors.HelmTimeout


# --- A field another field manager owns (Helm 4's server-side apply). ---

ONE_CONFLICT = (
    'level=WARN msg="upgrade failed" name=x error="conflict occurred while applying object '
    "h10-ssa/x-prometheus-server /v1, Kind=ConfigMap: Apply failed with 1 conflict: conflict "
    'with \\"other\\": .data.prometheus.yml"\n'
    "Error: UPGRADE FAILED: conflict occurred while applying object h10-ssa/x-prometheus-server "
    '/v1, Kind=ConfigMap: Apply failed with 1 conflict: conflict with "other": '
    ".data.prometheus.yml\n"
)
# Three objects: one with fields of two managers, one patched by hand (an update, so the API
# server adds the version the manager used), one scaled through the scale subresource.
CONFLICTS = (
    "Error: UPGRADE FAILED: conflict occurred while applying object h10-ssa/x-prometheus-server "
    '/v1, Kind=ConfigMap: Apply failed with 3 conflicts: conflicts with "other":\n'
    "- .data.prometheus.yml\n"
    "- .metadata.labels.app.kubernetes.io/version\n"
    'conflicts with "third":\n'
    "- .metadata.labels.helm.sh/chart && conflict occurred while applying object "
    "h10-ssa/x-prometheus-server /v1, Kind=Service: Apply failed with 1 conflict: conflict with "
    '"patcher" using v1: .metadata.labels.helm.sh/chart && conflict occurred while applying '
    "object h10-ssa/x-prometheus-server apps/v1, Kind=Deployment: Apply failed with 1 conflict: "
    'conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas\n'
)


def test_field_conflict_names_the_field_and_its_manager() -> None:
    error = errors.classify(ONE_CONFLICT, ["helm", "upgrade", "x"])

    assert isinstance(error, errors.FieldConflict)
    assert not error.transient
    assert error.conflicts == (
        errors.FieldOwner("ConfigMap h10-ssa/x-prometheus-server", ".data.prometheus.yml", "other"),
    )
    assert str(error) == (
        "UPGRADE FAILED: server-side apply conflict: .data.prometheus.yml of ConfigMap "
        'h10-ssa/x-prometheus-server is managed by "other"'
    )


def test_field_conflicts_of_several_objects_and_managers_are_all_named() -> None:
    error = errors.classify(CONFLICTS, ["helm", "upgrade", "x"])

    assert isinstance(error, errors.FieldConflict)
    config_map = "ConfigMap h10-ssa/x-prometheus-server"
    assert error.conflicts == (
        errors.FieldOwner(config_map, ".data.prometheus.yml", "other"),
        errors.FieldOwner(config_map, ".metadata.labels.app.kubernetes.io/version", "other"),
        errors.FieldOwner(config_map, ".metadata.labels.helm.sh/chart", "third"),
        errors.FieldOwner(
            "Service h10-ssa/x-prometheus-server", ".metadata.labels.helm.sh/chart", "patcher"
        ),
        errors.FieldOwner(
            "Deployment h10-ssa/x-prometheus-server", ".spec.replicas", "kubectl", "scale"
        ),
    )
    assert str(error).endswith(
        '.spec.replicas of Deployment h10-ssa/x-prometheus-server is managed by "kubectl" '
        "(subresource scale)"
    )


# --- helm test: only a test pod that failed is a failed test. ---

TEST_OUTPUT = [
    pytest.param(
        "Error: 1 error occurred:\n\t* pod bad-prometheus-server-test failed\n\n\n",
        errors.TestFailed,
        id="helm3-test-pod-failed",
    ),
    pytest.param(
        "Error: resource Pod/h10-t4/bad-prometheus-server-test not ready. status: Failed, "
        "message: pod bad-prometheus-server-test failed",
        errors.TestFailed,
        id="helm4-test-pod-failed",
    ),
    pytest.param(
        "Error: 1 error occurred:\n\t* job bad-prometheus-job-test failed: BackoffLimitExceeded"
        "\n\n\n",
        errors.TestFailed,
        id="helm3-test-job-failed",
    ),
    pytest.param(
        "Error: resource Job/h10-t4/bad-prometheus-job-test not ready. status: Failed, "
        "message: Job has reached the specified backoff limit",
        errors.TestFailed,
        id="helm4-test-job-failed",
    ),
    pytest.param(
        "Error: 1 error occurred:\n\t* timed out waiting for the condition\n\n\n",
        errors.HelmTimeout,
        id="helm3-test-timeout",
    ),
    pytest.param("Error: context deadline exceeded", errors.HelmTimeout, id="helm4-test-timeout"),
    pytest.param("Error: release: not found", errors.ReleaseNotFound, id="helm3+4-test-unknown"),
    pytest.param(
        'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:46619/version": dial tcp '
        "127.0.0.1:46619: connect: connection refused",
        errors.ClusterUnreachable,
        id="helm3-test-api-refused",
    ),
    pytest.param(
        'Error: kubernetes cluster unreachable: Get "https://127.0.0.1:46619/version": dial tcp '
        "127.0.0.1:46619: connect: connection refused",
        errors.ClusterUnreachable,
        id="helm4-test-api-refused",
    ),
]


@pytest.mark.parametrize(("stderr", "kind"), TEST_OUTPUT)
def test_helm_test_output_maps_to_typed_error(stderr: str, kind: type[errors.HelmError]) -> None:
    error = errors.classify(stderr, ["/opt/helm", "test", "x", "--namespace", "apps"])

    assert type(error) is kind


@pytest.mark.parametrize(
    "stderr",
    [
        pytest.param(
            "Error: INSTALLATION FAILED: failed pre-install: 1 error occurred:\n"
            "\t* pod hk3-pre failed\n\n\n",
            id="helm3",
        ),
        pytest.param(
            "Error: INSTALLATION FAILED: failed pre-install: resource Pod/h10-hook/hk4-pre not "
            "ready. status: Failed, message: pod hk4-pre failed",
            id="helm4",
        ),
    ],
)
def test_failed_hook_pod_of_an_install_is_a_hook_failure_not_a_test(stderr: str) -> None:
    # The same words as a failed test pod: only `helm test` makes them a test outcome.
    error = errors.classify(stderr, ["/opt/helm", "install", "x", "--namespace", "apps"])

    assert type(error) is errors.HookFailed
    assert not error.transient


@pytest.mark.parametrize(
    ("command", "ran"),
    [
        (["/usr/bin/setpriv", "--pdeathsig", "TERM", "--", "/opt/helm", "test", "x"], "test"),
        (["/opt/helm", "install", "test", "./chart"], "install"),
        (["/opt/helm", "--debug", "test", "x"], "test"),
    ],
)
def test_the_helm_command_is_found_wherever_it_stands(command: list[str], ran: str) -> None:
    stderr = "Error: 1 error occurred:\n\t* pod x-test failed\n"

    error = errors.classify(stderr, command)

    assert type(error) is (errors.TestFailed if ran == "test" else errors.HookFailed)

"""What a rendered release asks of its nodes and who holds an object: the host ports a pod
template takes (a hostPort, or a container port on the host's network), whether two pod
templates may share a node by their node selectors, and whether an object is the release's own
(Helm's annotations, or native mode's platform labels)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.engine.collisions import Candidate, may_share_nodes, pod_spec, taken_host_ports

RELEASE = Candidate("obs-prometheus", "team-a", "obs")


def daemonset(pod: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "DaemonSet", "spec": {"template": {"spec": pod}}}


def test_host_ports_are_those_a_pod_takes_on_its_node() -> None:
    pod = {
        "hostNetwork": True,
        "initContainers": [{"ports": [{"containerPort": 9000}]}],
        "containers": [
            {"ports": [{"containerPort": 9100}, {"containerPort": 53, "protocol": "UDP"}]}
        ],
    }
    assert list(taken_host_ports(pod_spec(daemonset(pod)))) == [
        (9000, "TCP"),
        (9100, "TCP"),
        (53, "UDP"),
    ]
    off_host = {
        "containers": [
            {"ports": [{"containerPort": 9100}, {"containerPort": 80, "hostPort": 8080}]}
        ]
    }
    assert list(taken_host_ports(pod_spec(daemonset(off_host)))) == [(8080, "TCP")]


@pytest.mark.parametrize(
    ("one", "other", "shared"),
    [
        ({}, {}, True),
        ({"pool": "a"}, {}, True),
        ({"pool": "a"}, {"pool": "a"}, True),
        ({"pool": "a"}, {"zone": "x"}, True),
        ({"pool": "a"}, {"pool": "b"}, False),
    ],
)
def test_node_selectors_that_differ_on_a_label_keep_pods_apart(
    one: dict[str, str], other: dict[str, str], shared: bool
) -> None:
    assert may_share_nodes({"nodeSelector": one}, {"nodeSelector": other}) is shared


@pytest.mark.parametrize(
    ("annotations", "labels", "own"),
    [
        (
            {
                "meta.helm.sh/release-name": "obs-prometheus",
                "meta.helm.sh/release-namespace": "team-a",
            },
            {},
            True,
        ),
        (
            {
                "meta.helm.sh/release-name": "obs-prometheus",
                "meta.helm.sh/release-namespace": "team-b",
            },
            {},
            False,
        ),
        (
            {"meta.helm.sh/release-name": "obs-loki", "meta.helm.sh/release-namespace": "team-a"},
            {},
            False,
        ),
        ({}, {"gunj.io/platform": "obs", "gunj.io/namespace": "team-a"}, True),
        ({}, {"gunj.io/platform": "obs", "gunj.io/namespace": "team-b"}, False),
        ({}, {}, False),
    ],
)
def test_an_object_is_the_releases_own_by_helms_annotations_or_native_labels(
    annotations: dict[str, str], labels: dict[str, str], own: bool
) -> None:
    obj = {"metadata": {"annotations": annotations, "labels": labels}}
    assert RELEASE.owns(obj) is own

"""The RBAC a namespace needs for gunj to reconcile platforms there as a ServiceAccount of its
own (:mod:`.tenancy`): what ``gunj clusters rbac`` prints for an administrator to apply.

Three ClusterRoles hold the rules (``data/rbac.yaml``): ``gunj-platform`` (bound in the
namespace), ``gunj-platform-cluster`` (the charts' cluster-scoped objects, bound cluster-wide to
the namespace's ServiceAccount) and ``gunj-controller`` (gunj's own identity). A Role in the
namespace lets gunj's own identity act as that ServiceAccount and no other.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import yaml

from .. import yamlio

PLATFORM_ROLE = "gunj-platform"
CLUSTER_ROLE = "gunj-platform-cluster"
CONTROLLER_ROLE = "gunj-controller"
IMPERSONATE_ROLE = "gunj-impersonate"
RBAC = "rbac.authorization.k8s.io"


@cache
def rules() -> dict[str, list[dict[str, Any]]]:
    """The rules of each of gunj's ClusterRoles, by name."""
    text = resources.files(__package__).joinpath("data/rbac.yaml").read_text()
    loaded: dict[str, list[dict[str, Any]]] = yamlio.safe_load(text)
    return loaded


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/part-of": "gunj"}}
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


Subjects = dict[str, str] | Sequence[dict[str, str]]
"""gunj's own identity: one subject, or several (each function's, in Google Cloud)."""


def _subjects(given: Subjects) -> list[dict[str, str]]:
    return [given] if isinstance(given, dict) else list(given)


def _binding(
    kind: str, name: str, role: str, subject: Subjects, namespace: str | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": kind,
        "metadata": _meta(name, namespace),
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
        "subjects": _subjects(subject),
    }


def cluster_roles() -> list[dict[str, Any]]:
    """gunj's ClusterRoles (the same for every namespace)."""
    return [
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": _meta(name), "rules": r}
        for name, r in rules().items()
    ]


def namespace_objects(
    namespace: str, service_account: str, controller: Subjects | None
) -> list[dict[str, Any]]:
    """The ServiceAccount a namespace's platforms act as, its bindings, and (with
    ``controller``, the subject gunj's own identity is: a User, Group or ServiceAccount) the
    right of gunj's own identity to act as it."""
    account = {"kind": "ServiceAccount", "name": service_account, "namespace": namespace}
    documents: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(service_account, namespace),
        },
        _binding("RoleBinding", PLATFORM_ROLE, PLATFORM_ROLE, account, namespace),
        _binding(
            "ClusterRoleBinding",
            f"{CLUSTER_ROLE}:{namespace}:{service_account}",
            CLUSTER_ROLE,
            account,
        ),
    ]
    if not controller:
        return documents
    documents.append(
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "Role",
            "metadata": _meta(IMPERSONATE_ROLE, namespace),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["serviceaccounts"],
                    "resourceNames": [service_account],
                    "verbs": ["impersonate"],
                }
            ],
        }
    )
    binding = _binding("RoleBinding", IMPERSONATE_ROLE, IMPERSONATE_ROLE, controller, namespace)
    binding["roleRef"]["kind"] = "Role"
    documents.append(binding)
    return documents


def subject(kind: str, name: str) -> dict[str, str]:
    """An RBAC subject: ``User``, ``Group`` or ``ServiceAccount`` (``namespace/name``)."""
    if kind == "ServiceAccount":
        namespace, _, account = name.partition("/")
        return {"kind": kind, "name": account, "namespace": namespace}
    return {"apiGroup": RBAC, "kind": kind, "name": name}


def recipe(
    crd: dict[str, Any],
    namespaces: list[str],
    service_account: str,
    controller: Subjects | None,
) -> list[dict[str, Any]]:
    """Everything an administrator applies, in order: the platforms' ``crd`` (gunj's own
    identity may keep it current, not create it), gunj's ClusterRoles, and each namespace's
    ServiceAccount and bindings."""
    documents = [crd, *cluster_roles()]
    for one in _subjects(controller or []):
        who = [one.get("namespace"), one["name"]]
        name = ":".join([CONTROLLER_ROLE, *filter(None, who)])
        documents.append(_binding("ClusterRoleBinding", name, CONTROLLER_ROLE, one))
    for namespace in namespaces:
        documents += namespace_objects(namespace, service_account, controller)
    return documents


def recipe_text(documents: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False)

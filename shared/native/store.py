"""Native mode's revisions: each applied set of objects is recorded as one Secret per revision,
in the format Helm keeps its releases in (``gunj.native.<release>.v<N>``, labels ``owner``,
``name``, ``version``, ``status``; data ``release`` = base64 of gzipped JSON with the chart,
values, manifest and info), so release state, digests, last good revisions and rollbacks read
the same for both modes (:class:`shared.helm.releases.ReleaseStore` with ``owner=gunj-native``).

A revision is written ``pending-install`` or ``pending-upgrade`` before its objects are applied,
then ``deployed`` (the previous one ``superseded``) or ``failed``. Only the newest
:data:`HISTORY` revisions are kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml
from kubernetes import client

from ..helm.releases import encode
from ..kube import ClusterAccess
from ..kube.errors import ApiConflict, ApiNotFound

OWNER = "gunj-native"
SECRET_TYPE = "gunj.io/native-release.v1"  # noqa: S105 - a Secret type, not a password
HISTORY = 10


def manifest_of(objects: list[dict[str, Any]]) -> str:
    return "".join("---\n" + yaml.safe_dump(o, sort_keys=True) for o in objects)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class NativeStore:
    def __init__(self, access: ClusterAccess) -> None:
        self.access = access

    def _secret_name(self, release: str, revision: int) -> str:
        return f"gunj.native.{release}.v{revision}"

    def write(
        self,
        *,
        release: str,
        namespace: str,
        revision: int,
        status: str,
        chart: Mapping[str, str],
        values: Mapping[str, Any],
        objects: list[dict[str, Any]],
        labels: Mapping[str, str],
        description: str,
        first_deployed: str | None = None,
    ) -> None:
        """Create or replace revision ``revision`` of ``release``."""
        now = _now()
        payload = {
            "name": release,
            "namespace": namespace,
            "version": revision,
            "info": {
                "status": status,
                "first_deployed": first_deployed or now,
                "last_deployed": now,
                "description": description,
            },
            "chart": {"metadata": dict(chart)},
            "config": dict(values),
            "manifest": manifest_of(objects),
            "hooks": [],
        }
        name = self._secret_name(release, revision)
        body = client.V1Secret(
            metadata=client.V1ObjectMeta(
                name=name,
                namespace=namespace,
                labels={
                    **labels,
                    "owner": OWNER,
                    "name": release,
                    "version": str(revision),
                    "status": status,
                    "modifiedAt": str(int(datetime.now(UTC).timestamp())),
                },
            ),
            type=SECRET_TYPE,
            data={"release": encode(payload)},
        )
        try:
            self.access.core.create_namespaced_secret(namespace, body)
        except ApiConflict:  # the revision is there already: rewritten
            self.access.core.replace_namespaced_secret(name, namespace, body)

    def set_status(self, release: str, namespace: str, revision: int, status: str) -> None:
        """Change a stored revision's status label (superseded, failed)."""
        name = self._secret_name(release, revision)
        patch = {"metadata": {"labels": {"status": status}}}
        with contextlib.suppress(ApiNotFound):  # trimmed meanwhile
            self.access.core.patch_namespaced_secret(name, namespace, patch)

    def trim(self, release: str, namespace: str) -> None:
        """Keep the newest HISTORY revisions."""
        secrets = self.access.core.list_namespaced_secret(
            namespace, label_selector=f"owner={OWNER},name={release}"
        ).items
        versions = sorted(
            int(((s.metadata and s.metadata.labels) or {}).get("version", 0)) for s in secrets
        )
        for version in versions[:-HISTORY]:
            self.delete(release, namespace, version)

    def delete(self, release: str, namespace: str, revision: int) -> None:
        with contextlib.suppress(ApiNotFound):  # gone already
            self.access.core.delete_namespaced_secret(
                self._secret_name(release, revision), namespace
            )

    def delete_all(self, release: str, namespace: str) -> None:
        self.access.core.delete_collection_namespaced_secret(
            namespace, label_selector=f"owner={OWNER},name={release}"
        )

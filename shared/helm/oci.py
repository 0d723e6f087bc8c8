"""Helm charts in OCI registries: list versions, read their metadata, pull their archives.

A chart version is a tag (``+`` in a version is ``_`` in its tag, as Helm writes it); its
manifest's config blob holds the Chart.yaml fields and its layer the chart archive. Registries
ask for authentication with a challenge: ``Bearer`` (a token from the realm it names, with the
credentials if any) or ``Basic``. Blobs are checked against their digest. What a tag holds is
cached on disk per registry, repository and tag, so listing a chart's versions again only reads
tags it has not seen.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..versions import InvalidVersion, parse_version
from .errors import ChartNotFound, InvalidIndex, RepositoryAuthFailed
from .fetch import Credentials, Response, get
from .index import ChartVersion

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
CONFIG_TYPE = "application/vnd.cncf.helm.config.v1+json"
CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROVENANCE_LAYER = "application/vnd.cncf.helm.chart.provenance.v1.prov"
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class OciReference:
    """``oci://host[:port]/path/chart``."""

    host: str
    repository: str

    @classmethod
    def parse(cls, url: str) -> OciReference:
        if not url.startswith("oci://"):
            raise ValueError(f"{url} is not an oci:// reference")
        host, _, repository = url.removeprefix("oci://").strip("/").partition("/")
        if not host or not repository:
            raise ValueError(f"{url} names no repository")
        return cls(host, repository)

    def url(self) -> str:
        return f"oci://{self.host}/{self.repository}"


def tag_of(version: str) -> str:
    return version.replace("+", "_")


def version_of(tag: str) -> str:
    return tag.replace("_", "+")


@dataclass(frozen=True)
class PulledLayer:
    content: bytes
    digest: str


class OciClient:
    def __init__(
        self,
        *,
        plain_http_hosts: frozenset[str] = frozenset(),
        cache_folder: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.plain_http_hosts = plain_http_hosts
        self.cache_folder = cache_folder
        self.timeout = timeout
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _base(self, host: str) -> str:
        scheme = "http" if host in self.plain_http_hosts else "https"
        return f"{scheme}://{host}/v2"

    def _token(self, challenge: str, credentials: Credentials | None) -> str:
        fields = dict(_CHALLENGE.findall(challenge))
        realm = fields.pop("realm", "")
        if not realm:
            raise RepositoryAuthFailed("the registry asked for a token without saying where")
        query = urllib.parse.urlencode(
            {k: v for k, v in fields.items() if k in {"service", "scope"}}
        )
        response = get(f"{realm}?{query}", credentials=credentials, timeout=self.timeout)
        answer = json.loads(response.body)
        token = answer.get("token") or answer.get("access_token")
        if not token:
            raise RepositoryAuthFailed("the registry's token service answered without a token")
        return str(token)

    def _get(
        self,
        reference: OciReference,
        path: str,
        credentials: Credentials | None,
        headers: dict[str, str] | None = None,
        allow: frozenset[int] = frozenset({200}),
    ) -> Response:
        url = f"{self._base(reference.host)}/{reference.repository}/{path}"
        key = (reference.host, reference.repository)
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))

        def attempt(authorization: str | None) -> Response:
            return get(
                url,
                headers=headers,
                authorization=authorization,
                allow=allow | {401},
                timeout=self.timeout,
            )

        response = attempt(f"Bearer {token}" if token and time.monotonic() < expires else None)
        if response.status != 401:
            return response
        challenge = response.headers.get("www-authenticate", "")
        if challenge.lower().startswith("bearer"):
            token = self._token(challenge, credentials)
            with self._lock:
                self._tokens[key] = (token, time.monotonic() + 240)
            authorization = f"Bearer {token}"
        elif credentials:
            authorization = credentials.basic()
        else:
            raise RepositoryAuthFailed(f"{reference.url()}: the registry asks for credentials")
        response = attempt(authorization)
        if response.status == 401:
            raise RepositoryAuthFailed(f"{reference.url()}: the registry refused the credentials")
        return response

    def tags(self, reference: OciReference, credentials: Credentials | None = None) -> list[str]:
        tags: list[str] = []
        path = "tags/list?n=1000"
        while path:
            response = self._get(reference, path, credentials, allow=frozenset({200, 404}))
            if response.status == 404:
                raise ChartNotFound(f"{reference.url()} is not in the registry")
            tags += json.loads(response.body).get("tags") or []
            link = re.search(r"<([^>]+)>;\s*rel=\"next\"", response.headers.get("link", ""))
            path = link.group(1).split(f"/{reference.repository}/", 1)[-1] if link else ""
        return tags

    def manifest(
        self, reference: OciReference, tag: str, credentials: Credentials | None = None
    ) -> dict[str, Any]:
        response = self._get(
            reference,
            f"manifests/{tag}",
            credentials,
            headers={"Accept": MANIFEST_TYPES},
            allow=frozenset({200, 404}),
        )
        if response.status == 404:
            raise ChartNotFound(f"{reference.url()}:{tag} is not in the registry")
        manifest: dict[str, Any] = json.loads(response.body)
        return manifest

    def blob(
        self, reference: OciReference, digest: str, credentials: Credentials | None = None
    ) -> bytes:
        content = self._get(reference, f"blobs/{digest}", credentials).body
        algorithm, _, expected = digest.partition(":")
        if algorithm != "sha256" or hashlib.sha256(content).hexdigest() != expected:
            raise InvalidIndex(f"{reference.url()}: blob {digest} does not match its digest")
        return content

    def _layer(self, manifest: dict[str, Any], media_type: str) -> str | None:
        return next(
            (
                layer["digest"]
                for layer in manifest.get("layers", [])
                if layer.get("mediaType") == media_type
            ),
            None,
        )

    def _cached_config(self, reference: OciReference, tag: str) -> Path | None:
        if self.cache_folder is None:
            return None
        key = hashlib.sha256(f"{reference.url()}:{tag}".encode()).hexdigest()[:32]
        return self.cache_folder / f"{key}.json"

    def chart_version(
        self, reference: OciReference, tag: str, credentials: Credentials | None = None
    ) -> ChartVersion:
        cached = self._cached_config(reference, tag)
        if cached and cached.is_file():
            config = json.loads(cached.read_text())
        else:
            manifest = self.manifest(reference, tag, credentials)
            config_digest = manifest.get("config", {}).get("digest")
            if manifest.get("config", {}).get("mediaType") != CONFIG_TYPE or not config_digest:
                raise InvalidIndex(f"{reference.url()}:{tag} is not a Helm chart")
            config = json.loads(self.blob(reference, config_digest, credentials))
            config["_layer"] = self._layer(manifest, CHART_LAYER) or ""
            if cached:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(config))
        return ChartVersion(
            name=str(config.get("name", "")),
            version=str(config.get("version", version_of(tag))),
            app_version=str(config.get("appVersion") or ""),
            digest=str(config.get("_layer", "")).removeprefix("sha256:"),
            deprecated=bool(config.get("deprecated", False)),
            kube_version=str(config.get("kubeVersion") or ""),
            annotations={str(k): str(v) for k, v in (config.get("annotations") or {}).items()},
        )

    def versions(
        self, reference: OciReference, credentials: Credentials | None = None
    ) -> tuple[ChartVersion, ...]:
        versions = []
        for tag in self.tags(reference, credentials):
            try:
                parse_version(version_of(tag))
            except InvalidVersion:
                continue  # "latest" and other tags that are not chart versions
            versions.append(self.chart_version(reference, tag, credentials))
        return tuple(versions)

    def pull(
        self, reference: OciReference, version: str, credentials: Credentials | None = None
    ) -> tuple[PulledLayer, PulledLayer | None]:
        """The chart archive and, when the registry has one, its provenance file."""
        manifest = self.manifest(reference, tag_of(version), credentials)
        chart_digest = self._layer(manifest, CHART_LAYER)
        if not chart_digest:
            raise InvalidIndex(f"{reference.url()}:{version} has no chart layer")
        chart = PulledLayer(self.blob(reference, chart_digest, credentials), chart_digest)
        prov_digest = self._layer(manifest, PROVENANCE_LAYER)
        provenance = (
            PulledLayer(self.blob(reference, prov_digest, credentials), prov_digest)
            if prov_digest
            else None
        )
        return chart, provenance

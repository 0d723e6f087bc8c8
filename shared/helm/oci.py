"""Helm charts in OCI registries: list versions, read their metadata, pull their archives.

A chart version is a tag (``+`` in a version is ``_`` in its tag, as Helm writes it); its
manifest's config blob holds the Chart.yaml fields and its layer the chart archive. Registries
ask for authentication with a challenge: ``Bearer`` (a token from the realm it names, with the
credentials if any) or ``Basic``. Blobs are checked against their digest. What a tag holds is
cached on disk per registry, repository and tag, so listing a chart's versions again only reads
tags it has not seen.

The registry is hostile input like any repository: every request goes through a
:class:`~.fetch.RepositoryFetch` (checked URLs, bounded sizes and time), tags and digests are
checked before they become part of a URL, the tag list has a page limit, and the token realm a
registry names is used only when it is on the registry's own origin (ghcr.io's is
``https://ghcr.io/token``) or on the allow-list; a realm anywhere else is refused without a
request, so the repository's credentials go nowhere else. Tokens are kept per registry,
repository and set of credentials: one platform's token never serves another's request.
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

from ..documents import MIB, DocumentError, DocumentLimits, load_document
from ..versions import InvalidVersion, parse_version
from .errors import ChartNotFound, InvalidIndex, RepositoryAuthFailed, RepositoryLimitExceeded
from .fetch import Credentials, RepositoryFetch, Response
from .index import ChartVersion
from .limits import RepositoryLimits
from .urls import UnsafeUrl, display, origin_of, resolve

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
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")  # the distribution spec's tag grammar
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


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


OCI_DOCUMENT = DocumentLimits(
    max_bytes=64 * MIB, max_size=64 * MIB, max_nodes=100_000, max_depth=32, max_string=MIB
)
"""How a registry's JSON answer is read (:mod:`shared.documents`); its bytes are bounded when
fetched (``document_bytes``), its values, depth and duplicate keys here."""


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        loaded = load_document(body, OCI_DOCUMENT, syntax="json")
    except DocumentError as error:
        raise InvalidIndex(f"{what} cannot be read: {error}") from None
    if not isinstance(loaded, dict):
        raise InvalidIndex(f"{what} is not a JSON object")
    return loaded


class OciClient:
    def __init__(self, *, cache_folder: Path | None = None) -> None:
        self.cache_folder = cache_folder
        self._tokens: dict[tuple[str, str, Credentials | None], tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _named(fetch: RepositoryFetch, reference: OciReference) -> str:
        return f"repository {display(fetch.repository)}: {reference.url()}"

    def _token(self, challenge: str, fetch: RepositoryFetch, reference: OciReference) -> str:
        fields = dict(_CHALLENGE.findall(challenge))
        realm = fields.pop("realm", "")
        if not realm:
            raise RepositoryAuthFailed(
                f"{self._named(fetch, reference)}: the registry asked for a token without "
                "saying where"
            )
        url = resolve(fetch.location, realm)
        query = urllib.parse.urlencode(
            {k: v for k, v in fields.items() if k in {"service", "scope"}}
        )
        if query:
            url += ("&" if "?" in url else "?") + query
        try:
            realm_origin = origin_of(url)
        except UnsafeUrl:
            realm_origin = None  # check_fetch refuses it, with the reason
        # The realm is fetched only when it is on the registry's origin or on the allow-list
        # (check_fetch refuses it otherwise), so the credentials may go to it.
        response = fetch.get(
            url,
            what="token service",
            limit=fetch.limits.document_bytes,
            limit_name="document_bytes",
            authorization=fetch.basic(),
            credentials_to=realm_origin,
            accept_origin=fetch.origin,
        )
        answer = _json(response.body, f"{self._named(fetch, reference)}: the token answer")
        token = answer.get("token") or answer.get("access_token")
        if not token or not isinstance(token, str):
            raise RepositoryAuthFailed(
                f"{self._named(fetch, reference)}: the registry's token service answered "
                "without a token"
            )
        return token

    def _get(
        self,
        fetch: RepositoryFetch,
        reference: OciReference,
        url: str,
        *,
        what: str,
        limit: int,
        limit_name: str,
        headers: dict[str, str] | None = None,
        allow: frozenset[int] = frozenset({200}),
    ) -> Response:
        key = (reference.host, reference.repository, fetch.credentials)
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))

        def attempt(authorization: str | None) -> Response:
            return fetch.get(
                url,
                what=what,
                limit=limit,
                limit_name=limit_name,
                headers=headers,
                authorization=authorization,
                allow=allow | {401},
            )

        response = attempt(f"Bearer {token}" if token and time.monotonic() < expires else None)
        if response.status != 401:
            return response
        challenge = response.headers.get("www-authenticate", "")
        authorization: str | None
        if challenge.lower().startswith("bearer"):
            token = self._token(challenge, fetch, reference)
            with self._lock:
                self._tokens[key] = (token, time.monotonic() + 240)
            authorization = f"Bearer {token}"
        elif fetch.credentials:
            authorization = fetch.basic()
        else:
            raise RepositoryAuthFailed(
                f"{self._named(fetch, reference)}: the registry asks for credentials"
            )
        response = attempt(authorization)
        if response.status == 401:
            raise RepositoryAuthFailed(
                f"{self._named(fetch, reference)}: the registry refused the credentials"
            )
        return response

    @staticmethod
    def _url(fetch: RepositoryFetch, reference: OciReference, path: str) -> str:
        return f"{fetch.location}/{reference.repository}/{path}"

    def tags(self, fetch: RepositoryFetch, reference: OciReference) -> list[str]:
        limits = fetch.limits
        tags: list[str] = []
        url = self._url(fetch, reference, "tags/list?n=1000")
        pages = 0
        while url:
            pages += 1
            if pages > limits.tag_pages:
                raise RepositoryLimitExceeded(
                    f"{self._named(fetch, reference)}: the tag list has more than "
                    f"{limits.tag_pages} pages, the limit for one chart "
                    f"({RepositoryLimits.variable('tag_pages')})"
                )
            response = self._get(
                fetch,
                reference,
                url,
                what="tag list",
                limit=limits.document_bytes,
                limit_name="document_bytes",
                allow=frozenset({200, 404}),
            )
            if response.status == 404:
                raise ChartNotFound(f"{reference.url()} is not in the registry")
            page = _json(response.body, f"{self._named(fetch, reference)}: the tag list")
            listed = page.get("tags") or []
            if not isinstance(listed, list):
                raise InvalidIndex(f"{self._named(fetch, reference)}: the tag list is malformed")
            tags += [tag for tag in listed if isinstance(tag, str) and _TAG.fullmatch(tag)]
            if len(tags) > limits.index_entries:
                raise RepositoryLimitExceeded(
                    f"{self._named(fetch, reference)}: more than {limits.index_entries} tags, "
                    f"the limit for one chart ({RepositoryLimits.variable('index_entries')})"
                )
            link = _NEXT.search(response.headers.get("link", ""))
            url = resolve(response.url, link.group(1)) if link else ""
        return tags

    def manifest(self, fetch: RepositoryFetch, reference: OciReference, tag: str) -> dict[str, Any]:
        if not _TAG.fullmatch(tag):
            raise ChartNotFound(f"{reference.url()}:{tag[:60]} is not a valid tag")
        response = self._get(
            fetch,
            reference,
            self._url(fetch, reference, f"manifests/{tag}"),
            what=f"manifest of {tag}",
            limit=fetch.limits.document_bytes,
            limit_name="document_bytes",
            headers={"Accept": MANIFEST_TYPES},
            allow=frozenset({200, 404}),
        )
        if response.status == 404:
            raise ChartNotFound(f"{reference.url()}:{tag} is not in the registry")
        return _json(response.body, f"{self._named(fetch, reference)}: the manifest of {tag}")

    def blob(
        self,
        fetch: RepositoryFetch,
        reference: OciReference,
        digest: object,
        *,
        limit: int,
        limit_name: str,
    ) -> bytes:
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise InvalidIndex(
                f"{self._named(fetch, reference)}: a manifest names a blob by something not a "
                "sha256 digest"
            )
        content = self._get(
            fetch,
            reference,
            self._url(fetch, reference, f"blobs/{digest}"),
            what=f"blob {digest[:19]}…",
            limit=limit,
            limit_name=limit_name,
        ).body
        if hashlib.sha256(content).hexdigest() != digest.removeprefix("sha256:"):
            raise InvalidIndex(f"{reference.url()}: blob {digest} does not match its digest")
        return content

    def _layer(self, manifest: dict[str, Any], media_type: str) -> str | None:
        layers = manifest.get("layers")
        return next(
            (
                layer.get("digest")
                for layer in (layers if isinstance(layers, list) else [])
                if isinstance(layer, dict) and layer.get("mediaType") == media_type
            ),
            None,
        )

    def _cached_config(self, reference: OciReference, tag: str) -> Path | None:
        if self.cache_folder is None:
            return None
        key = hashlib.sha256(f"{reference.url()}:{tag}".encode()).hexdigest()[:32]
        return self.cache_folder / f"{key}.json"

    def chart_version(
        self, fetch: RepositoryFetch, reference: OciReference, tag: str
    ) -> ChartVersion:
        cached = self._cached_config(reference, tag)
        config: dict[str, Any] | None = None
        if cached and cached.is_file():
            try:
                config = json.loads(cached.read_text())
            except (OSError, ValueError):
                config = None
        if config is None:
            manifest = self.manifest(fetch, reference, tag)
            described = manifest.get("config")
            described = described if isinstance(described, dict) else {}
            if described.get("mediaType") != CONFIG_TYPE or not described.get("digest"):
                raise InvalidIndex(f"{reference.url()}:{tag} is not a Helm chart")
            config = _json(
                self.blob(
                    fetch,
                    reference,
                    described["digest"],
                    limit=fetch.limits.document_bytes,
                    limit_name="document_bytes",
                ),
                f"{self._named(fetch, reference)}: the chart metadata of {tag}",
            )
            config["_layer"] = self._layer(manifest, CHART_LAYER) or ""
            if cached:
                cached.parent.mkdir(parents=True, exist_ok=True)
                temporary = cached.with_suffix(f".{threading.get_ident()}.tmp")
                temporary.write_text(json.dumps(config))
                temporary.replace(cached)
        annotations = config.get("annotations")
        return ChartVersion(
            name=str(config.get("name", "")),
            version=str(config.get("version", version_of(tag))),
            app_version=str(config.get("appVersion") or ""),
            digest=str(config.get("_layer", "")).removeprefix("sha256:"),
            deprecated=config.get("deprecated") is True,
            kube_version=str(config.get("kubeVersion") or ""),
            annotations=(
                {str(k): str(v) for k, v in annotations.items()}
                if isinstance(annotations, dict)
                else {}
            ),
        )

    def versions(self, fetch: RepositoryFetch, reference: OciReference) -> tuple[ChartVersion, ...]:
        versions = []
        for tag in self.tags(fetch, reference):
            try:
                parse_version(version_of(tag))
            except InvalidVersion:
                continue  # "latest" and other tags that are not chart versions
            versions.append(self.chart_version(fetch, reference, tag))
        return tuple(versions)

    def pull(
        self, fetch: RepositoryFetch, reference: OciReference, version: str
    ) -> tuple[PulledLayer, PulledLayer | None]:
        """The chart archive and, when the registry has one, its provenance file."""
        manifest = self.manifest(fetch, reference, tag_of(version))
        chart_digest = self._layer(manifest, CHART_LAYER)
        if not chart_digest:
            raise InvalidIndex(f"{reference.url()}:{version} has no chart layer")
        limits = fetch.limits
        chart = PulledLayer(
            self.blob(
                fetch,
                reference,
                chart_digest,
                limit=limits.archive_bytes,
                limit_name="archive_bytes",
            ),
            chart_digest,
        )
        prov_digest = self._layer(manifest, PROVENANCE_LAYER)
        provenance = (
            PulledLayer(
                self.blob(
                    fetch,
                    reference,
                    prov_digest,
                    limit=limits.document_bytes,
                    limit_name="document_bytes",
                ),
                prov_digest,
            )
            if prov_digest
            else None
        )
        return chart, provenance

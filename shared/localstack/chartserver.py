"""A static HTTP chart repository server for the local stack, bound to 127.0.0.1.

Like the real hosts of Helm repositories (GitHub Pages, object stores), it answers conditional
requests: a strong ``ETag`` and ``Last-Modified`` on every file, ``304 Not Modified`` for a
matching ``If-None-Match`` or a not-newer ``If-Modified-Since``. Like a private repository, it
can require HTTP Basic credentials (read from a file, so they are not on a command line). Run as
``python -m shared.localstack.chartserver --root DIR --port N [--credentials-file F]``.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import http
import http.server
from functools import partial
from pathlib import Path


class ChartRepositoryHandler(http.server.SimpleHTTPRequestHandler):
    server_version = "gunj-chartserver"
    _etag: str | None = None
    # "user:password" when the repository is private.
    credentials: str | None = None

    def _authorized(self) -> bool:
        if self.credentials is None:
            return True
        expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
        return self.headers.get("Authorization", "") == expected

    def send_head(self):  # type: ignore[no-untyped-def]  # signature of the base class
        if not self._authorized():
            self.send_response(http.HTTPStatus.UNAUTHORIZED)
            self.send_header("WWW-Authenticate", 'Basic realm="charts"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        path = Path(self.translate_path(self.path))
        if path.is_file():
            content = path.read_bytes()
            etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
            if etag in [tag.strip() for tag in self.headers.get("If-None-Match", "").split(",")]:
                return self._not_modified(etag, path)
            since = self.headers.get("If-Modified-Since")
            if since and "If-None-Match" not in self.headers:
                parsed = email.utils.parsedate_to_datetime(since)
                if parsed is not None and int(path.stat().st_mtime) <= parsed.timestamp():
                    return self._not_modified(etag, path)
            self._etag = etag
        else:
            self._etag = None
        return super().send_head()

    def _not_modified(self, etag: str, path: Path) -> None:
        self.send_response(http.HTTPStatus.NOT_MODIFIED)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()

    def end_headers(self) -> None:
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
            self._etag = None
        super().end_headers()


def serve(root: Path, port: int, credentials: str | None = None) -> None:
    handler_class = type("Handler", (ChartRepositoryHandler,), {"credentials": credentials})
    handler = partial(handler_class, directory=str(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--credentials-file", type=Path, help="file holding user:password; requests must carry them"
    )
    arguments = parser.parse_args()
    credentials = (
        arguments.credentials_file.read_text().strip() if arguments.credentials_file else None
    )
    serve(arguments.root, arguments.port, credentials)


if __name__ == "__main__":
    main()

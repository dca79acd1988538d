"""A reverse proxy on a local port that records each request's headers, then hands it on."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

from tests.utils.local_http import LocalHttpServer, QuietHandler


class RecordingProxy(LocalHttpServer):
    """POSTs to `target` (e.g. moto), with the headers of every request kept."""

    def __init__(self, target: str) -> None:
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        parts = urlsplit(target)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        owner = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with owner._lock:
                    owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                upstream = http.client.HTTPConnection(host, port, timeout=30)
                try:
                    upstream.request("POST", self.path, body, dict(self.headers.items()))
                    answer = upstream.getresponse()
                    content_type = answer.getheader("Content-Type", "application/json")
                    self.answer(answer.status, content_type, answer.read())
                finally:
                    upstream.close()

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

"""An identity provider's JWKS endpoint on a local port, whose keys a test rotates."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from devstack.ports import free_port


class SigningKey:
    """A P-256 key pair under a key id: signs tokens (ES256), publishes its public half."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self._private = ec.generate_private_key(ec.SECP256R1())

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = ECAlgorithm.to_jwk(self._private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "ES256"}

    def sign(self, payload: dict[str, Any], *, kid: str | None = None) -> str:
        return jwt.encode(
            payload, self._private, algorithm="ES256", headers={"kid": kid or self.kid}
        )


class JwksServer:
    """Serves `{"keys": [...]}` of the keys published last, and counts the fetches."""

    def __init__(self) -> None:
        self.port = free_port()
        self.fetches = 0
        self.status = 200
        self._document = b'{"keys": []}'
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = owner._document
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def publish(self, *keys: SigningKey | dict[str, Any]) -> None:
        jwks = [key.jwk() if isinstance(key, SigningKey) else key for key in keys]
        self._document = json.dumps({"keys": jwks}).encode()

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

"""An identity provider's JWKS endpoint on a local port, whose keys a test rotates."""

from __future__ import annotations

import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from tests.utils.local_http import LocalHttpServer, QuietHandler


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


class JwksServer(LocalHttpServer):
    """Serves `{"keys": [...]}` of the keys published last, and counts the fetches."""

    def __init__(self) -> None:
        self.fetches = 0
        self.status = 200
        self._document = b'{"keys": []}'
        owner = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                self.answer(owner.status, "application/json", owner._document)

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def publish(self, *keys: SigningKey | dict[str, Any]) -> None:
        jwks = [key.jwk() if isinstance(key, SigningKey) else key for key in keys]
        self._document = json.dumps({"keys": jwks}).encode()

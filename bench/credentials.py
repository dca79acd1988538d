"""The bench's bearer token: production mode requires authentication.

One HS256 secret and one manager token per benchmark process, made with the
standard library (the API checks them with PyJWT). Peers ignore the header.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(secret: str, claims: dict[str, object]) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(signature.digest())}"


@dataclass(frozen=True, slots=True)
class Credentials:
    secret: str
    authorization: str


def bearer(secret: str) -> str:
    """The Authorization header of the bench's manager, signed with `secret`."""
    now = int(time.time())
    token = hs256_token(
        secret, {"sub": "bench", "roles": ["viewer", "manager"], "iat": now, "exp": now + 86_400}
    )
    return f"Bearer {token}"


@functools.cache
def credentials() -> Credentials:
    secret = secrets.token_urlsafe(48)
    return Credentials(secret=secret, authorization=bearer(secret))

"""Bearer tokens for the tests: signed like an identity provider would sign them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
ISSUER = "https://login.example.test/"
AUDIENCE = "graphql-api"


def auth_env(**extra: str) -> dict[str, str]:
    return {
        "GRAPHQL_API_JWT_SECRET": SECRET,
        "GRAPHQL_API_JWT_ISSUER": ISSUER,
        "GRAPHQL_API_JWT_AUDIENCE": AUDIENCE,
        **extra,
    }


def claims(
    subject: str = "alice@corp", roles: object = ("viewer",), **overrides: Any
) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": subject,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "roles": list(roles) if isinstance(roles, tuple) else roles,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def hs256(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token PyJWT would refuse to make: alg none, or HS256 keyed with a public key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"

"""Who is asking: bearer JWTs checked against the configured key, issuer and audience.

HS256 tokens are checked with a shared secret, RS256/ES256 tokens with a public
key, or with the key a JWKS URL publishes under the token's `kid`
(web/jwks.py); the algorithm follows from the key, never from the token, so a
token cannot choose `none` or sign with a public key as an HMAC secret. The
reason a token was refused is logged by category only, never the token.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from graphql_api.errors import ConfigError
from graphql_api.principal import ACTOR_MAX_LENGTH, Principal, Role
from graphql_api.settings import JwtSettings
from graphql_api.web.jwks import ALGORITHMS, JwksKeys

log = logging.getLogger("graphql_api.web.auth")

# Verified tokens remembered at most; bounded so many tokens cannot grow memory.
_VERIFIED_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class AuthenticationFailed:
    """Why a request has no principal; `message` is safe to send to the client."""

    message: str


_MISSING = AuthenticationFailed("A bearer token is required (Authorization: Bearer <token>).")
_EXPIRED = AuthenticationFailed("The bearer token has expired.")
_INVALID = AuthenticationFailed("The bearer token is not valid.")
# Its `kid` is not in the JWKS: `principal` fetches the set again (rate-limited) and retries.
_KEY_UNKNOWN = AuthenticationFailed("The bearer token's signing key is not known.")


def _load_public_key(settings: JwtSettings) -> tuple[object, str]:
    assert settings.public_key_file is not None
    name = "GRAPHQL_API_JWT_PUBLIC_KEY_FILE"
    try:
        pem = settings.public_key_file.read_bytes()
    except OSError as error:
        raise ConfigError(name, f"cannot read the key file ({error.strerror})") from None
    try:
        key = load_pem_public_key(pem)
    except ValueError:
        raise ConfigError(name, "is not a PEM public key") from None
    if isinstance(key, rsa.RSAPublicKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise ConfigError(name, "must hold an RSA key (RS256) or a P-256 EC key (ES256)")


class Authenticator:
    """Turns an Authorization header into a Principal or an AuthenticationFailed."""

    def __init__(self, settings: JwtSettings) -> None:
        # Tokens already verified -> (principal, until when that holds). A client
        # sends the same token with every request; checking its signature once
        # per token, not per request, took PyJWT off the top of the profile.
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._jwks: JwksKeys | None = None
        self._key: object = None
        if settings.jwks_url is not None:
            # A key the provider withdrew must stop working: verified tokens are forgotten.
            self._jwks = JwksKeys(
                settings.jwks_url,
                lifetime_s=settings.jwks_lifetime_s,
                min_refresh_s=settings.jwks_min_refresh_s,
                on_change=self._verified.clear,
            )
            self._algorithms = sorted(ALGORITHMS)
        elif settings.public_key_file is not None:
            self._key, algorithm = _load_public_key(settings)
            self._algorithms = [algorithm]
        else:
            assert settings.secret is not None
            self._key, self._algorithms = settings.secret, ["HS256"]
        self._settings = settings

    @property
    def algorithm(self) -> str:
        if self._jwks is not None:
            return f"from the JWKS at {self._settings.jwks_url}"
        return self._algorithms[0]

    @property
    def jwks(self) -> JwksKeys | None:
        return self._jwks

    async def principal(self, authorization: str | None) -> Principal | AuthenticationFailed:
        """`authenticate`, and once more after the JWKS was fetched again when the
        token names a key the set did not hold (the provider rotated its keys)."""
        outcome = self.authenticate(authorization)
        if outcome is _KEY_UNKNOWN:
            assert self._jwks is not None
            if await self._jwks.refresh_for_unknown():
                outcome = self.authenticate(authorization)
            if outcome is _KEY_UNKNOWN:
                log.info("token refused: its kid is not in the JWKS")
        return outcome

    def authenticate(self, authorization: str | None) -> Principal | AuthenticationFailed:
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _MISSING
        verified = self._verified.get(token)
        if verified is not None:
            principal, good_until = verified
            if time.time() < good_until:
                return principal
            del self._verified[token]
        outcome, good_until = self._decode(token)
        if isinstance(outcome, Principal):
            if len(self._verified) >= _VERIFIED_TOKENS:
                # The oldest entry out: a client's token is asked for again and again.
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (outcome, good_until)
        return outcome

    def _signing_key(self, token: str) -> tuple[object, list[str]] | AuthenticationFailed:
        """The key that must have signed this token, and its algorithms."""
        if self._jwks is None:
            return self._key, self._algorithms
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as error:
            log.info("token refused: %s", type(error).__name__)
            return _INVALID
        if not isinstance(kid, str):
            log.info("token refused: no kid to find its key in the JWKS")
            return _INVALID
        key = self._jwks.key(kid)
        if key is None:
            return _KEY_UNKNOWN
        return key, [key.algorithm_name]

    def _decode(self, token: str) -> tuple[Principal | AuthenticationFailed, float]:
        """The token checked in full, and until when its answer holds."""
        signing = self._signing_key(token)
        if isinstance(signing, AuthenticationFailed):
            return signing, 0.0
        key, algorithms = signing
        try:
            claims = jwt.decode(
                token,
                key=key,  # type: ignore[arg-type]
                algorithms=algorithms,
                issuer=self._settings.issuer,
                audience=self._settings.audience,
                leeway=self._settings.leeway_s,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self._settings.audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            return _EXPIRED, 0.0
        except jwt.InvalidTokenError as error:
            log.info("token refused: %s", type(error).__name__)
            return _INVALID, 0.0
        # PyJWT takes a numeric string and any integer for `exp`; only a number
        # within the configured lifetime is kept (and cached until then).
        expires = claims["exp"]
        furthest = time.time() + self._settings.max_lifetime_s + self._settings.leeway_s
        # Compared, never subtracted: a float cannot hold 10**400.
        if type(expires) not in (int, float) or expires > furthest:
            log.info("token refused: exp is not a number within the maximum lifetime")
            return _INVALID, 0.0
        # PyJWT refuses a token once `exp` is `leeway` seconds past.
        return self._principal(claims), float(expires) + self._settings.leeway_s

    def _principal(self, claims: dict[str, object]) -> Principal | AuthenticationFailed:
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= ACTOR_MAX_LENGTH:
            log.info("token refused: subject empty or longer than %d", ACTOR_MAX_LENGTH)
            return _INVALID
        granted = claims.get(self._settings.roles_claim, [])
        if not isinstance(granted, list) or not all(isinstance(r, str) for r in granted):
            log.info("token without a list of roles in %r", self._settings.roles_claim)
            granted = []
        known = {role.value: role for role in Role}
        roles = frozenset(known[name] for name in granted if name in known)
        return Principal(subject=subject, roles=roles)

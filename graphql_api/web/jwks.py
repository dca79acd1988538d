"""Token signing keys from a JWKS URL (Cognito, Auth0, Okta): cached, refreshed, rate-limited.

The key set is fetched on first use, again in the background once it is older
than `lifetime_s`, and at once when a token names a key id the set does not
hold (the identity provider has rotated its keys), so a rotation needs no
restart. A flood of tokens with made-up key ids must not become a flood of
fetches: a fetch for an unknown id happens at most once per `min_refresh_s`
(failed fetches included), and requests that ask meanwhile share the fetch in
flight instead of starting their own.

PyJWT's PyJWKClient fetches with urllib, which blocks; called on the event loop
it would stall every request for as long as the identity provider takes to
answer (up to its timeout). So only its fetch (`fetch_data`: http(s) only, no
redirects, a timeout) and PyJWT's parsing (PyJWKSet) are used, the fetch on a
worker thread, with the caching and rate limiting here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

log = logging.getLogger("graphql_api.web.jwks")

# Asymmetric signatures only: a JWKS publishes public keys. A symmetric ("oct")
# key there would let anyone who reads the URL sign tokens.
ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
_FETCH_TIMEOUT_S = 5.0


def signing_keys(document: Any) -> dict[str, PyJWK]:
    """The usable signing keys of a JWKS document by key id; others are left out."""
    if not isinstance(document, dict):
        raise jwt.PyJWKSetError("the JWKS is not a JSON object")
    keys: dict[str, PyJWK] = {}
    for key in PyJWKSet.from_dict(document).keys:
        usable = key.public_key_use in {"sig", None} and key.algorithm_name in ALGORITHMS
        if usable and isinstance(key.key_id, str) and key.key_id:
            keys[key.key_id] = key
    return keys


class JwksKeys:
    """The key set of one JWKS URL, as far as it is known."""

    def __init__(
        self,
        url: str,
        *,
        lifetime_s: float,
        min_refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        # Constructed here, used only for its fetch (see the module docstring).
        self._client = PyJWKClient(url, cache_jwk_set=False, timeout=_FETCH_TIMEOUT_S)
        self._url = url
        self._lifetime_s = lifetime_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        # Told when keys were removed or replaced: verified tokens are checked again.
        self._on_change = on_change
        self._keys: Mapping[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._fetching: asyncio.Task[None] | None = None
        self.fetches = 0

    @property
    def fetch_in_flight(self) -> asyncio.Task[None] | None:
        return self._fetching

    def key(self, kid: str) -> PyJWK | None:
        """The key with this id, if the set holds it; starts a background
        refresh when the set is older than its lifetime."""
        if self._fetched_at is not None and self._clock() - self._fetched_at >= self._lifetime_s:
            self._start_fetch()
        return self._keys.get(kid)

    async def refresh_for_unknown(self) -> bool:
        """Fetches the set (or waits for the fetch in flight) unless one was
        attempted less than `min_refresh_s` ago; True when the caller may look again."""
        if self._fetching is None:
            last = self._attempted_at
            if last is not None and self._clock() - last < self._min_refresh_s:
                return False
            self._start_fetch()
        assert self._fetching is not None
        await asyncio.shield(self._fetching)
        return True

    def _start_fetch(self) -> None:
        if self._fetching is None:
            self._attempted_at = self._clock()
            self._fetching = asyncio.get_running_loop().create_task(self._fetch())

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            document = await asyncio.to_thread(self._client.fetch_data)
            keys = signing_keys(document)
        except (jwt.PyJWTError, ValueError) as error:
            # The keys known before stay in use; the next fetch is rate-limited too.
            log.warning("JWKS fetch from %s failed: %s", self._url, type(error).__name__)
            return
        finally:
            self._fetching = None
        removed = self._keys.keys() - keys.keys()
        self._keys = keys
        self._fetched_at = self._clock()
        log.info("JWKS from %s: %d signing keys (%s)", self._url, len(keys), ", ".join(keys))
        if removed:
            self._on_change()

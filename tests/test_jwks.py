"""Keys from a JWKS URL: fetched on first use, refreshed on an unknown kid, rotated without a
restart, and a flood of made-up kids never becomes a flood of fetches."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from devstack.env import serve
from graphql_api.errors import ConfigError
from graphql_api.settings import load_settings
from graphql_api.web.jwks import JwksKeys, signing_keys
from tests.utils.jwks_server import JwksServer, SigningKey
from tests.utils.jwt_tokens import AUDIENCE, ISSUER, bearer, claims

QUERY = '{ customer(id: "C-00001") { id } }'
NOT_KNOWN = "The bearer token's signing key is not known."


def _jwks_env(url: str, **extra: str) -> dict[str, str]:
    return {
        "GRAPHQL_API_JWT_JWKS_URL": url,
        "GRAPHQL_API_JWT_ISSUER": ISSUER,
        "GRAPHQL_API_JWT_AUDIENCE": AUDIENCE,
        **extra,
    }


@pytest.fixture(scope="module")
def first_key() -> SigningKey:
    return SigningKey("key-1")


@pytest.fixture
def jwks(first_key: SigningKey) -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.publish(first_key)
        yield server


def _ask(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/graphql", json={"query": QUERY}, headers=bearer(token))


def test_a_rotated_key_is_fetched_and_a_withdrawn_one_stops_working(
    jwks: JwksServer, first_key: SigningKey
) -> None:
    old_token = first_key.sign(claims(subject="old"))
    new_key = SigningKey("key-2")
    env = _jwks_env(jwks.url, GRAPHQL_API_JWT_JWKS_MIN_REFRESH="0")
    with serve(env) as app, httpx.Client(base_url=app.base_url) as http:
        assert _ask(http, old_token).json()["data"] == {"customer": {"id": "C-00001"}}
        assert _ask(http, first_key.sign(claims(subject="again"))).status_code == 200
        assert jwks.fetches == 1  # fetched on first use, then cached
        # The provider rotates: the new key only. No restart.
        jwks.publish(new_key)
        assert _ask(http, new_key.sign(claims())).status_code == 200
        assert jwks.fetches == 2
        # The withdrawn key's token, verified and remembered before, is refused now.
        refused = _ask(http, old_token)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["message"] == NOT_KNOWN


def test_a_flood_of_made_up_kids_fetches_nothing_and_hinders_no_one(
    jwks: JwksServer, first_key: SigningKey
) -> None:
    attacker = SigningKey("attacker")
    flood = [attacker.sign(claims(), kid=uuid.uuid4().hex) for _ in range(200)]
    honest = first_key.sign(claims(subject="honest"))

    async def attack(base_url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base_url) as http:
            answers = await asyncio.gather(
                *(
                    http.post("/graphql", json={"query": QUERY}, headers=bearer(token))
                    for token in flood
                )
            )
        return [answer.status_code for answer in answers]

    with serve(_jwks_env(jwks.url)) as app, httpx.Client(base_url=app.base_url) as http:
        assert _ask(http, honest).status_code == 200
        statuses = asyncio.run(attack(app.base_url))
        # A second client, right after: answered as before.
        assert _ask(http, honest).status_code == 200
    assert statuses == [401] * len(flood)
    # The first use fetched; the flood came within GRAPHQL_API_JWT_JWKS_MIN_REFRESH (30 s).
    assert jwks.fetches == 1


def test_refreshes_are_shared_rate_limited_and_survive_an_outage(first_key: SigningKey) -> None:
    now = [1000.0]
    with JwksServer() as server:
        server.publish(first_key)
        keys = JwksKeys(server.url, lifetime_s=300, min_refresh_s=30, clock=lambda: now[0])

        async def unknown_kids(count: int) -> list[bool]:
            return list(await asyncio.gather(*(keys.refresh_for_unknown() for _ in range(count))))

        # Fifty requests at once share one fetch.
        assert asyncio.run(unknown_kids(50)) == [True] * 50
        assert (server.fetches, keys.key("key-1") is not None) == (1, True)
        # Within the interval: no fetch, the caller is told not to look again.
        assert asyncio.run(unknown_kids(5)) == [False] * 5
        assert server.fetches == 1
        # The provider fails: the keys known before stay, and a failure counts too.
        now[0] += 31
        server.status = 500
        assert asyncio.run(unknown_kids(1)) == [True]
        assert (server.fetches, keys.key("key-1") is not None) == (2, True)
        assert asyncio.run(unknown_kids(1)) == [False]
        assert server.fetches == 2


def test_an_old_key_set_is_fetched_again_in_the_background(first_key: SigningKey) -> None:
    now = [1000.0]
    later = SigningKey("key-later")
    with JwksServer() as server:
        server.publish(first_key)
        keys = JwksKeys(server.url, lifetime_s=300, min_refresh_s=30, clock=lambda: now[0])

        async def scenario() -> tuple[bool, bool]:
            await keys.refresh_for_unknown()
            server.publish(later)
            now[0] += 301
            # Still answered from the set held, while the fetch runs beside the request.
            held = keys.key("key-1") is not None
            fetch = keys.fetch_in_flight
            assert fetch is not None
            await fetch
            return held, keys.key("key-1") is None

        assert asyncio.run(scenario()) == (True, True)


def test_only_asymmetric_signing_keys_are_taken_from_a_jwks(first_key: SigningKey) -> None:
    document = {
        "keys": [
            {"kty": "oct", "kid": "shared", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},
            {**first_key.jwk(), "kid": "for-encryption", "use": "enc"},
            {**first_key.jwk(), "kid": ""},
            first_key.jwk(),
        ]
    }
    assert list(signing_keys(document)) == ["key-1"]


def test_a_provider_that_fails_refuses_tokens_without_refetching_for_each() -> None:
    token = SigningKey("k").sign(claims())
    with JwksServer() as failing:
        failing.status = 503
        with serve(_jwks_env(failing.url)) as app, httpx.Client(base_url=app.base_url) as http:
            answers = [_ask(http, token) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [401] * 3
    assert answers[0].json()["errors"][0]["message"] == NOT_KNOWN
    assert failing.fetches == 1


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param(
            {"GRAPHQL_API_JWT_JWKS_URL": "file:///etc/keys.json"},
            "GRAPHQL_API_JWT_JWKS_URL",
            id="not-http",
        ),
        pytest.param(
            {"GRAPHQL_API_JWT_JWKS_URL": "https://idp.example/jwks", "GRAPHQL_API_JWT_SECRET": "x"},
            "GRAPHQL_API_JWT_JWKS_URL",
            id="with-a-secret",
        ),
        pytest.param(
            {
                "GRAPHQL_API_JWT_JWKS_URL": "https://idp.example/jwks",
                "GRAPHQL_API_JWT_JWKS_MIN_REFRESH": "-1",
            },
            "GRAPHQL_API_JWT_JWKS_MIN_REFRESH",
            id="negative-interval",
        ),
    ],
)
def test_a_bad_jwks_setting_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert raised.value.variable == variable

"""CORS: only the configured origins may call the API from a browser."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devstack.env import serve

ALLOWED = "https://app.example.com"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    env = {"GRAPHQL_API_CORS_ORIGINS": f"{ALLOWED}, https://admin.example.com:8443"}
    with serve(env) as app, httpx.Client(base_url=app.base_url) as client:
        yield client


def _preflight(http: httpx.Client, origin: str) -> httpx.Response:
    return http.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_an_allowed_origin_passes_the_preflight(http: httpx.Client) -> None:
    response = _preflight(http, ALLOWED)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_another_origin_fails_the_preflight(http: httpx.Client) -> None:
    response = _preflight(http, "https://evil.example.net")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        pytest.param(ALLOWED, True, id="allowed"),
        pytest.param("https://admin.example.com:8443", True, id="allowed-with-port"),
        pytest.param("https://app.example.com.evil.net", False, id="lookalike"),
        pytest.param("http://app.example.com", False, id="other-scheme"),
    ],
)
def test_responses_name_only_allowed_origins(
    http: httpx.Client, origin: str, allowed: bool
) -> None:
    response = http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin})
    assert response.status_code == 200
    assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
    if allowed:
        assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


def test_without_configured_origins_no_cors_headers_are_sent() -> None:
    with serve({}) as app, httpx.Client(base_url=app.base_url) as client:
        response = client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
        )
        preflight = _preflight(client, ALLOWED)
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight.headers

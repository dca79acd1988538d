"""Compressed answers (zstd, else gzip) above the size threshold; `no-store` on API answers."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
from backports import zstd

from devstack.app_server import AppServer
from devstack.env import serve
from graphql_api.web.compression import chosen_encoding

# A page of 100 customers with their contact details: about 35 KB of JSON.
PAGE = (
    "{ customers(first: 100) { nodes {"
    " id name contactPerson email phone address city state zipCode country status version"
    " createdAt updatedAt source } } }"
)
SMALL = '{ customer(id: "C-00001") { id } }'


@pytest.fixture(scope="module")
def app() -> Iterator[AppServer]:
    with serve({}) as server:
        yield server


def _raw(app: AppServer, method: str, path: str, encoding: str, **kwargs: object) -> httpx.Response:
    """The response with its body as sent (httpx would decode it)."""
    with httpx.Client(base_url=app.base_url) as http:
        request = http.build_request(
            method,
            path,
            headers={"Accept-Encoding": encoding},
            **kwargs,  # type: ignore[arg-type]
        )
        response = http.send(request, stream=True)
        response._content = b"".join(response.iter_raw())
        response.close()
    return response


def _plain(app: AppServer, query: str) -> httpx.Response:
    return _raw(app, "POST", "/graphql", "identity", json={"query": query})


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        pytest.param("gzip, deflate, br, zstd", "zstd", zstd.decompress, id="zstd-preferred"),
        pytest.param("gzip", "gzip", gzip.decompress, id="gzip"),
        pytest.param("zstd;q=0, gzip;q=0.5", "gzip", gzip.decompress, id="zstd-refused"),
    ],
)
def test_a_large_answer_is_compressed_and_decodes_to_the_same_bytes(
    app: AppServer, accept: str, encoding: str, decode: object
) -> None:
    plain = _plain(app, PAGE)
    packed = _raw(app, "POST", "/graphql", accept, json={"query": PAGE})
    assert (packed.status_code, packed.headers["content-encoding"]) == (200, encoding)
    assert "content-encoding" not in plain.headers
    assert packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) == len(packed.content)
    assert callable(decode)
    assert decode(packed.content) == plain.content
    assert len(plain.content) > 20_000
    # JSON of similar records compresses well: at least 5 to 1.
    assert len(packed.content) * 5 < len(plain.content)


@pytest.mark.parametrize(
    "accept", [pytest.param("identity", id="identity"), pytest.param("gzip;q=0", id="refused")]
)
def test_a_client_that_accepts_no_encoding_gets_the_body_as_it_is(
    app: AppServer, accept: str
) -> None:
    response = _raw(app, "POST", "/graphql", accept, json={"query": PAGE})
    assert "content-encoding" not in response.headers
    assert len(response.json()["data"]["customers"]["nodes"]) == 100


def test_a_small_answer_is_sent_as_it_is(app: AppServer) -> None:
    response = _raw(app, "POST", "/graphql", "gzip, zstd", json={"query": SMALL})
    assert "content-encoding" not in response.headers
    assert response.json()["data"] == {"customer": {"id": "C-00001"}}


def test_rest_answers_are_compressed_too(app: AppServer) -> None:
    response = _raw(app, "GET", "/salesreps/SR-001/customers?limit=50", "gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert b'"customers"' in gzip.decompress(response.content)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("POST", "/graphql", {"query": SMALL}, id="graphql"),
        pytest.param("GET", f"/graphql?query={SMALL}", None, id="graphql-get"),
        pytest.param("POST", "/graphql", {"query": "{"}, id="graphql-error"),
        pytest.param("GET", "/customers/C-00001", None, id="rest"),
        pytest.param("GET", "/customers/C-99999", None, id="rest-not-found"),
    ],
)
def test_api_answers_may_not_be_stored(
    app: AppServer, method: str, path: str, body: dict[str, str] | None
) -> None:
    with httpx.Client(base_url=app.base_url) as http:
        response = http.request(method, path, json=body)
        health = http.get("/healthz")
    assert response.headers["cache-control"] == "no-store"
    assert "cache-control" not in health.headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("", None, id="none"),
        pytest.param("gzip", "gzip", id="gzip"),
        pytest.param("GZIP;q=0.1, zstd", "zstd", id="both"),
        pytest.param("*", "zstd", id="wildcard"),
        pytest.param("*, zstd;q=0", "gzip", id="wildcard-but-zstd"),
        pytest.param("gzip;q=zero", None, id="bad-quality"),
        pytest.param("br, deflate", None, id="others-only"),
    ],
)
def test_the_encoding_follows_accept_encoding(header: str, expected: str | None) -> None:
    assert chosen_encoding(header) == expected

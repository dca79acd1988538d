"""Bearer JWTs and roles, over HTTP against MariaDB: a refused caller reads and writes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from graphql_api.principal import Principal
from graphql_api.settings import load_settings
from graphql_api.web.auth import AuthenticationFailed, Authenticator
from tests.utils.jwt_tokens import SECRET, auth_env, bearer, claims, handmade, hs256
from tests.utils.mariadb import StatementCounter

QUERY = '{ customer(id: "C-00001") { id version } }'
MUTATION = (
    'mutation { updateCustomerStatus(input: {customerId: "C-00001", status: CHURNED,'
    ' note: "by the test"}) { __typename ... on Customer { version } } }'
)
HISTORY = '{ customer(id: "C-00001") { history(first: 1) { kind actor note } } }'


class Secured:
    def __init__(self, base_url: str, mariadb: MariaDBServer) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.statements = StatementCounter(mariadb)

    def post(self, query: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post("/graphql", json={"query": query}, headers=headers or {})


@pytest.fixture
def secured(seeded_mariadb: MariaDBServer) -> Iterator[Secured]:
    with serve(mysql_env(seeded_mariadb, **auth_env())) as app:
        client = Secured(app.base_url, seeded_mariadb)
        try:
            yield client
        finally:
            client.http.close()


def _expired() -> dict[str, Any]:
    return claims(roles=("manager",), exp=int(time.time()) - 120)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, id="basic-scheme"),
        pytest.param({"Authorization": "Bearer"}, id="scheme-without-token"),
        pytest.param({"Authorization": "Bearer not.a.jwt"}, id="garbage"),
        pytest.param(bearer(hs256(claims(roles=("manager",)), "x" * 40)), id="wrong-secret"),
        pytest.param(bearer(hs256(_expired())), id="expired-beyond-leeway"),
        pytest.param(
            bearer(hs256(claims(roles=("manager",), iss="https://evil.test/"))), id="wrong-issuer"
        ),
        pytest.param(bearer(hs256(claims(roles=("manager",), iss=None))), id="no-issuer"),
        pytest.param(
            bearer(hs256(claims(roles=("manager",), aud="another-api"))), id="wrong-audience"
        ),
        pytest.param(bearer(hs256(claims(roles=("manager",), sub=None))), id="no-subject"),
        pytest.param(bearer(hs256(claims(roles=("manager",), exp=None))), id="no-expiry"),
        pytest.param(
            bearer(hs256(claims(roles=("manager",), exp=str(int(time.time()) + 300)))),
            id="expiry-a-string",
        ),
        pytest.param(bearer(hs256(claims(roles=("manager",), exp=10**400))), id="expiry-10e400"),
        pytest.param(
            bearer(hs256(claims(roles=("manager",), exp=int(time.time()) + 86_400 + 600))),
            id="expiry-past-the-maximum-lifetime",
        ),
        pytest.param(
            bearer(hs256(claims(roles=("manager",), nbf=int(time.time()) + 600))),
            id="not-yet-valid",
        ),
        pytest.param(
            bearer(hs256(claims(roles=("manager",), sub="x" * 101))), id="subject-too-long"
        ),
        pytest.param(
            bearer(handmade({"alg": "none", "typ": "JWT"}, claims(roles=("manager",)), None)),
            id="alg-none",
        ),
    ],
)
def test_a_missing_or_bad_token_is_unauthenticated_and_touches_nothing(
    secured: Secured, headers: dict[str, str]
) -> None:
    before = secured.statements.total()
    for operation in (QUERY, MUTATION):
        response = secured.post(operation, headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]
        assert response.json()["data"] is None
    assert secured.statements.total() == before


def test_an_expired_token_says_so(secured: Secured) -> None:
    [error] = secured.post(QUERY, bearer(hs256(_expired()))).json()["errors"]
    assert error["message"] == "The bearer token has expired."


@pytest.mark.parametrize(
    ("roles", "operation"),
    [
        pytest.param(["viewer"], MUTATION, id="viewer-mutates"),
        pytest.param([], QUERY, id="no-role-queries"),
        pytest.param(["admin", "owner"], QUERY, id="unknown-roles-query"),
        pytest.param("manager", MUTATION, id="roles-not-a-list"),
    ],
)
def test_a_missing_role_is_forbidden_and_touches_nothing(
    secured: Secured, roles: object, operation: str
) -> None:
    token = hs256(claims(roles=roles))
    before = secured.statements.total()
    response = secured.post(operation, bearer(token))
    assert response.status_code == 200
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert body["data"] is None
    assert secured.statements.total() == before


def test_roles_are_checked_before_validation(secured: Secured) -> None:
    """A token without roles sending a validation bomb is refused for its roles,
    before the document is validated or measured."""
    bomb = '{ customer(id: "C-00001") { ' + "salesRep { id } " * 490 + "} }"
    body = secured.post(bomb, bearer(hs256(claims(roles=())))).json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN"}


def test_a_token_at_the_maximum_lifetime_is_accepted(secured: Secured) -> None:
    token = hs256(claims(roles=("viewer",), exp=int(time.time()) + 86_400))
    body = secured.post(QUERY, bearer(token)).json()
    assert body["data"]["customer"]["id"] == "C-00001"


def test_a_viewer_may_query(secured: Secured) -> None:
    body = secured.post(QUERY, bearer(hs256(claims(roles=("viewer",))))).json()
    assert "errors" not in body
    assert body["data"]["customer"]["id"] == "C-00001"


def test_a_manager_mutates_and_the_event_names_the_token_subject(secured: Secured) -> None:
    headers = bearer(hs256(claims(subject="manager-17", roles=("manager",))))
    changed = secured.post(MUTATION, headers).json()
    assert changed["data"]["updateCustomerStatus"]["__typename"] == "Customer"
    history = secured.post(HISTORY, headers).json()["data"]["customer"]["history"]
    assert history == [{"kind": "STATUS_CHANGED", "actor": "manager-17", "note": "by the test"}]


def test_clock_skew_within_the_leeway_is_accepted(secured: Secured) -> None:
    token = hs256(claims(exp=int(time.time()) - 5))
    assert secured.post(QUERY, bearer(token)).json()["data"]["customer"]["id"] == "C-00001"


def _write_public_key(
    path: Path, private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
) -> Path:
    path.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.mark.parametrize(
    ("make_key", "algorithm"),
    [
        pytest.param(
            lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "RS256",
            id="rsa",
        ),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256R1()), "ES256", id="ec-p256"),
    ],
)
def test_public_key_tokens_and_a_custom_roles_claim(
    tmp_path: Path, make_key: Any, algorithm: str
) -> None:
    private_key = make_key()
    key_file = _write_public_key(tmp_path / "idp.pem", private_key)
    env = {
        "GRAPHQL_API_JWT_PUBLIC_KEY_FILE": str(key_file),
        "GRAPHQL_API_JWT_ROLES_CLAIM": "https://example.test/roles",
    }
    payload = claims(roles=None)
    payload["https://example.test/roles"] = ["viewer"]
    good = jwt.encode(payload, private_key, algorithm=algorithm)
    other_key = make_key()
    forged = jwt.encode(payload, other_key, algorithm=algorithm)
    # The classic confusion: HS256 "signed" with the public key text as the secret.
    confused = handmade({"alg": "HS256", "typ": "JWT"}, payload, key_file.read_bytes())
    unsigned_roles = jwt.encode(claims(roles=("viewer",)), private_key, algorithm=algorithm)
    with serve(env) as app, httpx.Client(base_url=app.base_url) as http:

        def post(token: str) -> httpx.Response:
            return http.post("/graphql", json={"query": QUERY}, headers=bearer(token))

        assert post(good).json()["data"]["customer"]["id"] == "C-00001"
        assert post(forged).status_code == 401
        assert post(confused).status_code == 401
        # `roles` is not the configured claim here, so this caller holds no role.
        [error] = post(unsigned_roles).json()["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"


def test_an_hs256_secret_signs_nothing_else(tmp_path: Path) -> None:
    """With a shared secret configured, an RS256 token is refused, whatever it claims."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(roles=("manager",)), private_key, algorithm="RS256")
    with serve(auth_env()) as app, httpx.Client(base_url=app.base_url) as http:
        response = http.post("/graphql", json={"query": QUERY}, headers=bearer(token))
        assert response.status_code == 401
        good = http.post("/graphql", json={"query": QUERY}, headers=bearer(hs256(claims())))
        assert good.status_code == 200
    assert len(SECRET) >= 32


def test_development_without_auth_says_so_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="graphql_api"), serve({}) as app:
        with httpx.Client(base_url=app.base_url) as http:
            body = http.post("/graphql", json={"query": MUTATION}).json()
        assert body["data"]["updateCustomerStatus"]["__typename"] == "Customer"
    assert any("authentication is OFF" in record.getMessage() for record in caplog.records)


def test_a_verified_token_is_refused_once_it_expires() -> None:
    """Tokens are verified once and remembered, but never past their expiry."""
    settings = load_settings({**auth_env(), "GRAPHQL_API_JWT_LEEWAY": "0"})
    assert settings.auth is not None
    authenticator = Authenticator(settings.auth)
    expires = int(time.time()) + 2
    header = f"Bearer {hs256(claims(roles=('viewer',), exp=expires))}"
    first = authenticator.authenticate(header)
    assert isinstance(first, Principal)
    assert authenticator.authenticate(header) == first
    # The expiry itself is what this waits for; nothing else could signal it.
    while time.time() <= expires:
        time.sleep(0.05)
    refused = authenticator.authenticate(header)
    assert refused == AuthenticationFailed("The bearer token has expired.")

"""Tokens and roles on the REST routes: the GraphQL layer's, answered as problems."""

from __future__ import annotations

import httpx
import pytest

from tests.utils.api import Api
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256
from tests.utils.rest import DEMO, assign, ok, other_active_rep, problem, update

pytestmark = pytest.mark.api_env(**auth_env())
CUSTOMER = DEMO.customers[2]


def _as(*roles: str, subject: str = "carol@corp") -> dict[str, str]:
    return bearer(hs256(claims(subject=subject, roles=roles)))


def _requests(http: httpx.Client, headers: dict[str, str]) -> list[httpx.Response]:
    """One request of every route."""
    change = {"customerId": CUSTOMER.id, "salesRepId": other_active_rep(CUSTOMER.sales_rep_id)}
    return [
        http.get(f"/customers/{CUSTOMER.id}", headers=headers),
        http.get(f"/salesreps/{CUSTOMER.sales_rep_id}/customers", headers=headers),
        assign(http, change, headers),
        update(http, CUSTOMER.id, {"status": "ACTIVE"}, headers),
    ]


@pytest.mark.read_only
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        bearer(hs256(claims(roles=("viewer",), exp=1))),
    ],
    ids=["none", "garbage", "expired"],
)
def test_every_route_refuses_a_missing_or_bad_token_with_401(
    api: Api, headers: dict[str, str]
) -> None:
    for response in _requests(api.client.http, headers):
        problem(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == "Bearer"


def test_viewers_read_and_managers_write(api: Api) -> None:
    http = api.client.http
    get_customer, get_rep, post, put = _requests(http, _as("viewer"))
    ok(get_customer)
    ok(get_rep)
    problem(post, 403, "FORBIDDEN")
    problem(put, 403, "FORBIDDEN")
    assert (
        ok(http.get(f"/customers/{CUSTOMER.id}", headers=_as("viewer")))["customer"]["version"]
        == CUSTOMER.version
    )
    written = ok(update(http, CUSTOMER.id, {"status": "CHURNED"}, _as("manager")))
    assert written["customer"]["history"][0]["actor"] == "carol@corp"


@pytest.mark.read_only
def test_a_token_without_roles_reads_nothing(api: Api) -> None:
    problem(api.client.http.get(f"/customers/{CUSTOMER.id}", headers=_as()), 403, "FORBIDDEN")


@pytest.mark.read_only
def test_two_authorization_headers_are_refused(api: Api) -> None:
    token = _as("viewer")["Authorization"]
    response = api.client.http.get(
        f"/customers/{CUSTOMER.id}",
        headers=[("Authorization", token), ("Authorization", token)],
    )
    problem(response, 400, "BAD_REQUEST")

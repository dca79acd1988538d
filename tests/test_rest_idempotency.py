"""Idempotency-Key on POST /assignments: a retry answers the first answer and writes nothing.

Against memory and MariaDB; the cross-replica and the in-progress cases against
MariaDB, where the keys live in the table every replica shares.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from tests.utils.api import Api
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256
from tests.utils.rest import DEMO, assign, ok, other_active_rep, problem

CUSTOMER = DEMO.customers[1]
TARGET = other_active_rep(CUSTOMER.sales_rep_id)
ASSIGNMENT = {"customerId": CUSTOMER.id, "salesRepId": TARGET, "expectedVersion": CUSTOMER.version}
HISTORY = "query($id: ID!) { customer(id: $id) { version history(first: 50) { kind } } }"


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def _history(api: Api) -> dict[str, Any]:
    customer: dict[str, Any] = api.data(HISTORY, {"id": CUSTOMER.id})["customer"]
    return customer


def test_a_retry_with_the_same_key_and_body_replays_and_writes_nothing(api: Api) -> None:
    http = api.client.http
    first = assign(http, ASSIGNMENT, _key("retry-1"))
    assert ok(first)["customer"]["version"] == CUSTOMER.version + 1
    assert "idempotent-replayed" not in first.headers
    written = _history(api)
    # The same JSON value with its members in another order is the same body.
    retry = assign(http, dict(reversed(ASSIGNMENT.items())), _key("retry-1"))
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    assert retry.headers["etag"] == first.headers["etag"]
    assert _history(api) == written
    # Without the key the same body is a new request: its stale version is refused.
    problem(assign(http, ASSIGNMENT), 409, "VERSION_CONFLICT")


def test_a_refusal_is_replayed_too(api: Api) -> None:
    stale = {**ASSIGNMENT, "expectedVersion": 1}
    first = assign(api.client.http, stale, _key("stale"))
    problem(first, 409, "VERSION_CONFLICT")
    again = assign(api.client.http, stale, _key("stale"))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    # The first answer, its request id included.
    assert again.content == first.content


def test_the_same_key_with_another_body_is_refused(api: Api) -> None:
    http = api.client.http
    ok(assign(http, ASSIGNMENT, _key("one-use")))
    written = _history(api)
    other = {**ASSIGNMENT, "salesRepId": other_active_rep(TARGET), "expectedVersion": None}
    refused = problem(assign(http, other, _key("one-use")), 422, "IDEMPOTENCY_KEY_REUSED")
    assert refused["field"] == "Idempotency-Key"
    assert _history(api) == written


@pytest.mark.parametrize(
    "headers",
    [{"Idempotency-Key": ""}, {"Idempotency-Key": "k" * 256}, {"Idempotency-Key": "has space"}],
    ids=["empty", "too-long", "space"],
)
def test_a_malformed_key_is_a_400_naming_the_header(api: Api, headers: dict[str, str]) -> None:
    refused = problem(assign(api.client.http, ASSIGNMENT, headers), 400, "VALIDATION")
    assert refused["field"] == "Idempotency-Key"
    assert _history(api)["version"] == CUSTOMER.version


def test_concurrent_requests_with_one_key_write_once(api: Api) -> None:
    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=api.client.base_url, timeout=30) as http:
            return assign(http, ASSIGNMENT, _key("together"))

    before = [event["kind"] for event in _history(api)["history"]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(8)))
    firsts = [a for a in answers if a.status_code == 200 and "idempotent-replayed" not in a.headers]
    assert len(firsts) == 1
    for answer in answers:
        if answer.status_code == 200:
            assert answer.content == firsts[0].content
        else:
            # Still running when asked: come back, never a second write.
            assert problem(answer, 409, "IDEMPOTENCY_KEY_IN_USE")
            assert answer.headers["retry-after"] == "1"
    history = _history(api)
    assert history["version"] == CUSTOMER.version + 1
    assert [event["kind"] for event in history["history"]] == ["ASSIGNED", *before]


@pytest.mark.api_env(**auth_env())
def test_keys_are_per_caller(api: Api) -> None:
    def caller(subject: str) -> dict[str, str]:
        return bearer(hs256(claims(subject=subject, roles=("manager",))))

    http = api.client.http
    first = assign(http, ASSIGNMENT, {**caller("alice"), **_key("shared")})
    assert ok(first)["customer"]["history"][0]["actor"] == "alice"
    # Bob's request with Alice's key is his own: no replay of her answer.
    bob = assign(http, ASSIGNMENT, {**caller("bob"), **_key("shared")})
    assert "idempotent-replayed" not in bob.headers
    problem(bob, 409, "VERSION_CONFLICT")
    alice_again = assign(http, ASSIGNMENT, {**caller("alice"), **_key("shared")})
    assert alice_again.headers["idempotent-replayed"] == "true"


def test_a_key_holds_across_replicas(seeded_mariadb: MariaDBServer) -> None:
    env = mysql_env(seeded_mariadb)
    with serve(env) as one, serve(env) as two:
        with httpx.Client(base_url=one.base_url) as http:
            first = assign(http, ASSIGNMENT, _key("replicas"))
        with httpx.Client(base_url=two.base_url) as http:
            again = assign(http, ASSIGNMENT, _key("replicas"))
    assert ok(first)["customer"]["version"] == CUSTOMER.version + 1
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content


@contextmanager
def _customer_locked(server: MariaDBServer) -> Iterator[None]:
    """The customer's row locked by another transaction: a write to it waits."""
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT version FROM customers WHERE customer_id = %s FOR UPDATE", [CUSTOMER.id]
            )
            yield
            cursor.execute("COMMIT")
    finally:
        connection.close()


def _wait_for_claim(server: MariaDBServer) -> None:
    """Polls until the first request has claimed its key (a condition, not a guess)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        connection = server.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM idempotency_keys WHERE status IS NULL")
                found = cursor.fetchone()
        finally:
            connection.close()
        if found is not None and found[0] == 1:
            return
        time.sleep(0.02)
    raise AssertionError("the first request never claimed its key")


def test_a_retry_while_the_first_runs_is_told_to_come_back(seeded_mariadb: MariaDBServer) -> None:
    with (
        serve(mysql_env(seeded_mariadb)) as app,
        httpx.Client(base_url=app.base_url, timeout=30) as http,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        with _customer_locked(seeded_mariadb):
            running = pool.submit(assign, http, ASSIGNMENT, _key("slow"))
            _wait_for_claim(seeded_mariadb)
            refused = problem(assign(http, ASSIGNMENT, _key("slow")), 409, "IDEMPOTENCY_KEY_IN_USE")
            assert "still running" in refused["detail"]
        first = running.result()
        assert ok(first)["customer"]["version"] == CUSTOMER.version + 1
        again = assign(http, ASSIGNMENT, _key("slow"))
        assert again.headers["idempotent-replayed"] == "true"

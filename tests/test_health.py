"""GET /healthz answers without I/O; GET /readyz pings each store and says which answer."""

from __future__ import annotations

import time

import httpx

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer


def test_memory_store_is_live_and_ready() -> None:
    with serve({}) as app, httpx.Client(base_url=app.base_url) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "stores": {"memory": {"ready": True}}}


def _wait_until_ready(http: httpx.Client, deadline_s: float = 30) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while True:
        response = http.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_a_stalled_database_is_not_ready_but_the_server_stays_live(
    seeded_mariadb: MariaDBServer,
) -> None:
    env = mysql_env(seeded_mariadb, GRAPHQL_API_READY_TIMEOUT="0.5")
    with serve(env) as app, httpx.Client(base_url=app.base_url, timeout=30) as http:
        assert http.get("/readyz").json() == {
            "status": "ready",
            "stores": {"mysql": {"ready": True}},
        }
        seeded_mariadb.pause()
        try:
            # Liveness does no I/O: it answers while MySQL cannot.
            assert http.get("/healthz").status_code == 200
            stalled = http.get("/readyz")
        finally:
            seeded_mariadb.resume()
        recovered = _wait_until_ready(http)
    assert stalled.status_code == 503
    assert stalled.json() == {
        "status": "unavailable",
        "stores": {"mysql": {"ready": False, "reason": "timeout"}},
    }
    assert recovered.status_code == 200


def test_an_unreachable_database_is_not_ready(mariadb: MariaDBServer) -> None:
    from devstack.ports import free_port

    env = mysql_env(mariadb, RDS_PORT=str(free_port()))
    with serve(env) as app, httpx.Client(base_url=app.base_url) as http:
        assert http.get("/healthz").status_code == 200
        ready = http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["stores"] == {"mysql": {"ready": False, "reason": "connection"}}

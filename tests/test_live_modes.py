"""Subscriptions in each store mode, and the websocket's limits, on one process.

The in-memory store feeds subscribers from its own process's events; a
DynamoDB-only server refuses subscriptions and the events query with a typed
error; the limits (subscriptions per connection, per caller and per process,
message size, connection_init time, keepalive, a slow consumer's buffer) each
answer with their code while a second client is served as before.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from devstack.app_server import AppServer
from devstack.env import dynamodb_env, serve
from devstack.live_client import PROTOCOL, WAIT_S, LiveClient
from devstack.moto_server import MotoServer
from graphql_api.schema.feed import event_cursor
from tests.utils.jwt_tokens import auth_env, claims, hs256
from tests.utils.live import (
    SUBSCRIPTION,
    api_client,
    assign,
    change_status,
    events,
    feed_message,
    manager_token,
    subscribed,
)
from tests.utils.metrics import scrape, value

PAGE = """
query Page($customerId: ID, $salesRepId: ID, $first: Int, $after: String) {
  customerEvents(customerId: $customerId, salesRepId: $salesRepId, first: $first, after: $after) {
    nodes { cursor customerId kind note salesRepId }
    pageInfo { hasNextPage endCursor }
  }
}
"""
LIMITS = {
    "GRAPHQL_API_FEED_POLL_INTERVAL": "0.05",
    "GRAPHQL_API_WS_MAX_SUBSCRIPTIONS": "3",
    "GRAPHQL_API_WS_MAX_MESSAGE_BYTES": "2048",
    "GRAPHQL_API_WS_INIT_TIMEOUT": "0.5",
    "GRAPHQL_API_FEED_RESUME_WINDOW": "100",
}


@pytest.fixture(scope="module")
def memory() -> Iterator[AppServer]:
    with serve(LIMITS) as server:
        yield server


def _error(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] == "error", message
    (error,) = message["payload"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


def test_the_memory_store_feeds_subscribers_from_its_own_events(memory: AppServer) -> None:
    async def scenario() -> None:
        client = await LiveClient.open(memory.base_url)
        rep, _ = await subscribed(client, salesRepId="SR-007")
        async with api_client(memory.base_url) as http:
            await assign(http, "C-00031", "SR-007", "to-seven")
            (moved,) = await events(client, rep, 1)
            assert moved == {**moved, "customerId": "C-00031", "salesRepId": "SR-007"}
            # The events query pages the same feed with the same cursors.
            before = event_cursor(int(_position(moved["cursor"])) - 1)
            page = (
                await http.post(
                    "/graphql",
                    json={"query": PAGE, "variables": {"salesRepId": "SR-007", "after": before}},
                )
            ).json()
        nodes = page["data"]["customerEvents"]["nodes"]
        assert [node["cursor"] for node in nodes] == [moved["cursor"]]
        assert page["extensions"]["stores"] == {"used": ["MEMORY"], "degraded": False}
        await client.close()

    asyncio.run(scenario())


def _position(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor).decode().removeprefix("e1:")


def test_a_cursor_past_the_resume_window_is_refused_with_its_code(memory: AppServer) -> None:
    async def scenario() -> None:
        client = await LiveClient.open(memory.base_url)
        id = await client.subscribe(SUBSCRIPTION, {"after": event_cursor(1)})
        extensions = _error(await client.next(id))
        assert extensions == {**extensions, "code": "RESUME_WINDOW_EXCEEDED", "window": 100}
        for bad in ("not a cursor", "djE6Qy0wMDAxMA=="):  # a customers list's cursor
            id = await client.subscribe(SUBSCRIPTION, {"after": bad})
            assert _error(await client.next(id)) == {"code": "BAD_USER_INPUT", "argument": "after"}
        id = await client.subscribe(SUBSCRIPTION, {"customerId": "bad id!"})
        assert _error(await client.next(id))["argument"] == "customerId"
        await client.close()

    asyncio.run(scenario())


def test_the_socket_limits_answer_with_their_codes(memory: AppServer) -> None:
    async def scenario() -> None:
        client = await LiveClient.open(memory.base_url)
        for customer in ("C-00041", "C-00042", "C-00043"):
            await subscribed(client, customerId=customer)
        fourth = await client.subscribe(SUBSCRIPTION, {"customerId": "C-00044"})
        assert _error(await client.next(fourth)) == {
            "code": "QUERY_LIMIT_EXCEEDED",
            "limit": "subscriptionsPerConnection",
            "maximum": 3,
            "actual": 4,
        }
        query = await client.subscribe('{ customer(id: "C-00001") { id } }')
        assert _error(await client.next(query))["code"] == "BAD_REQUEST"
        # Too large a message closes the socket (1009) ...
        await client.send({"id": "big", "type": "subscribe", "payload": {"query": "#" * 3000}})
        assert (await client.closed()).code == 1009
        # ... and a connection that never sends connection_init is closed too (4408).
        url = memory.base_url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=[PROTOCOL]) as silent:  # type: ignore[list-item]
            await asyncio.wait_for(silent.wait_closed(), WAIT_S)
        assert silent.close_code == 4408

    asyncio.run(scenario())


def test_subscriptions_per_caller_and_per_process_are_bounded() -> None:
    env = {
        **auth_env(),
        "GRAPHQL_API_FEED_MAX_SUBSCRIPTIONS_PER_CALLER": "3",
        "GRAPHQL_API_FEED_MAX_SUBSCRIPTIONS": "5",
    }

    async def scenario(server: AppServer) -> None:
        alice = [await LiveClient.open(server.base_url, token=_token("alice")) for _ in range(2)]
        for n in range(3):
            await subscribed(alice[n % 2], customerId=f"C-0005{n}")
        # A caller's fourth, on any of its connections.
        refused = await alice[1].subscribe(SUBSCRIPTION, {"customerId": "C-00059"})
        assert _error(await alice[1].next(refused)) == {
            "code": "QUERY_LIMIT_EXCEEDED",
            "limit": "subscriptionsPerCaller",
            "maximum": 3,
        }
        # The process's sixth, whoever asks: the server is full, not the caller.
        bob = await LiveClient.open(server.base_url, token=_token("bob"))
        for n in range(2):
            await subscribed(bob, customerId=f"C-0006{n}")
        carol = await LiveClient.open(server.base_url, token=_token("carol"))
        full = await carol.subscribe(SUBSCRIPTION, {"customerId": "C-00069"})
        assert _error(await carol.next(full))["code"] == "OVERLOADED"
        # A subscription that ends frees its place.
        await alice[0].close()
        await _until_subscribers(server, 3)
        await subscribed(carol, customerId="C-00069")
        for client in (alice[1], bob, carol):
            await client.close()

    with serve(env) as server:
        asyncio.run(scenario(server))


def test_connections_per_caller_are_bounded_and_another_caller_is_served() -> None:
    env = {
        **auth_env(),
        "GRAPHQL_API_WS_MAX_CONNECTIONS_PER_CALLER": "2",
        "GRAPHQL_API_FEED_POLL_INTERVAL": "0.05",
    }

    async def scenario(server: AppServer) -> None:
        alice = [await LiveClient.open(server.base_url, token=_token("alice")) for _ in range(2)]
        watching = [(await subscribed(client, customerId="C-00041"))[0] for client in alice]
        third = await LiveClient.open(server.base_url, token=_token("alice"), acknowledged=False)
        closed = await third.closed()
        assert (closed.code, closed.reason) == (1008, "A caller may hold 2 connections at most.")
        # Another caller is served, and alice's two connections go on as before.
        bob = await LiveClient.open(server.base_url, token=_token("bob"))
        bobs, _ = await subscribed(bob, customerId="C-00041")
        async with api_client(server.base_url, manager_token()) as http:
            await change_status(http, "C-00041", "capped")
        for client, id in ((alice[0], watching[0]), (alice[1], watching[1]), (bob, bobs)):
            (event,) = await events(client, id, 1)
            assert event["note"] == "capped", event
        # A connection that ends frees its place.
        await alice[1].close()
        await _until_subscribers(server, 2)
        again = await LiveClient.open(server.base_url, token=_token("alice"))
        await subscribed(again, customerId="C-00041")
        for client in (alice[0], bob, again):
            await client.close()

    with serve(env) as server:
        asyncio.run(scenario(server))


def _token(subject: str) -> str:
    return hs256(claims(subject, ("viewer",)))


async def _until_subscribers(server: AppServer, count: int) -> None:
    async with asyncio.timeout(WAIT_S):
        while True:
            with httpx.Client(base_url=server.base_url) as http:
                samples, _ = scrape(http)
            if value(samples, "graphql_api_feed_subscribers") == count:
                return
            await asyncio.sleep(0.02)  # then read the gauge again


def test_the_server_pings_and_closes_a_client_that_never_pongs() -> None:
    async def scenario(server: AppServer) -> None:
        answering = await LiveClient.open(server.base_url)
        silent = await LiveClient.open(server.base_url, answer_pings=False)
        assert (await silent.next(None))["type"] == "ping"
        closed = await silent.closed()
        assert (closed.code, "No pong" in closed.reason) == (1001, True)
        # The client that answers is still served after several pings.
        id, _ = await subscribed(answering, customerId="C-00061")
        async with api_client(server.base_url) as http:
            await change_status(http, "C-00061", "still-here")
        assert [m["note"] for m in await events(answering, id, 1)] == ["still-here"]
        await answering.close()

    with serve({"GRAPHQL_API_WS_KEEPALIVE": "0.2", "GRAPHQL_API_FEED_POLL_INTERVAL": "0.05"}) as s:
        asyncio.run(scenario(s))


def test_a_slow_consumer_is_dropped_and_a_bystander_is_not() -> None:
    """A client that stops reading fills its subscribers' buffers: its connection
    is closed with 1013 (it may reconnect and resume), memory stays bounded, and
    another client's subscription gets every event."""
    # The kernel buffers a few MB for a socket that does not drain: each event goes
    # to 200 subscriptions of the slow connection, so a few dozen fill them.
    env = {
        "GRAPHQL_API_FEED_POLL_INTERVAL": "0.02",
        "GRAPHQL_API_FEED_BUFFER": "5",
        "GRAPHQL_API_WS_MAX_SUBSCRIPTIONS": "200",
        "GRAPHQL_API_FEED_MAX_SUBSCRIPTIONS_PER_CALLER": "201",
    }

    async def scenario(server: AppServer) -> None:
        # Uncompressed: 200 copies of one message would deflate to almost nothing.
        slow = await LiveClient.open(server.base_url, receive_buffer=4096, deflate=False)
        ids = [await slow.subscribe(SUBSCRIPTION) for _ in range(200)]
        for id in ids:
            assert (await feed_message(slow, id))["state"] == "LIVE"
        bystander = await LiveClient.open(server.base_url)
        watching, _ = await subscribed(bystander, customerId="C-00071")
        slow.stall()
        notes = []
        async with api_client(server.base_url) as http:
            for step in range(300):
                notes.append(f"{'x' * 450}-{step}")
                await change_status(http, "C-00071", notes[-1])
                if _dropped(server) > 0:
                    break
        slow.unstall()
        closed = await slow.closed()
        assert (closed.code, closed.reason.startswith("Too slow")) == (1013, True)
        assert _dropped(server) >= 1
        got = [m["note"] for m in await events(bystander, watching, len(notes))]
        assert got == notes
        await bystander.close()

    with serve(env) as s:
        asyncio.run(scenario(s))


def _dropped(server: AppServer) -> float:
    with httpx.Client(base_url=server.base_url) as http:
        samples, _ = scrape(http)
    return value(samples, "graphql_api_feed_dropped_subscribers_total", reason="slow")


def test_a_dynamodb_only_server_refuses_the_feed_with_a_typed_error(moto: MotoServer) -> None:
    async def scenario(server: AppServer) -> None:
        client = await LiveClient.open(server.base_url)
        id = await client.subscribe(SUBSCRIPTION, {"customerId": "C-00001"})
        extensions = _error(await client.next(id))
        assert extensions == {"code": "NOT_SUPPORTED"}
        await client.close()
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            answer = (await http.post("/graphql", json={"query": PAGE})).json()
        assert answer["errors"][0]["extensions"] == {"code": "NOT_SUPPORTED"}

    with serve(dynamodb_env(moto, GRAPHQL_API_STORES="dynamodb")) as server:
        asyncio.run(scenario(server))


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_subscription_over_http_is_refused_not_failed(memory: AppServer, method: str) -> None:
    document = 'subscription { customerEvents(customerId: "C-00001") { __typename } }'
    with httpx.Client(base_url=memory.base_url) as http:
        if method == "POST":
            response = http.post("/graphql", json={"query": document})
        else:
            response = http.get("/graphql", params={"query": document})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_a_rep_and_a_customer_feed_message_shape(memory: AppServer) -> None:
    async def scenario() -> None:
        client = await LiveClient.open(memory.base_url)
        id, status = await subscribed(client, customerId="C-00081")
        assert status == {
            "__typename": "CustomerFeedStatus",
            "state": "LIVE",
            "resumeAfter": status["resumeAfter"],
            "reason": None,
        }
        async with api_client(memory.base_url) as http:
            await assign(http, "C-00081", "SR-011", "shape")
        message = await feed_message(client, id)
        assert message == {
            "__typename": "CustomerFeedEvent",
            "cursor": message["cursor"],
            "customerId": "C-00081",
            "kind": "ASSIGNED",
            "at": message["at"],
            "actor": None,
            "note": "shape",
            "fromStatus": None,
            "toStatus": None,
            "fromSalesRepId": message["fromSalesRepId"],
            "toSalesRepId": "SR-011",
            "salesRepId": "SR-011",
        }
        await client.close()

    asyncio.run(scenario())

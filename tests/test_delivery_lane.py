"""A delivery sent as text written for another subscriber is byte for byte the
message strawberry writes itself (schema/delivery_lane.py, web/live_lane.py).

Over one real server, per generated example (a document selecting any of the
event's fields, aliased or not, through an inline or a named fragment; a
filter; a run of status changes and moves with any notes): three subscriptions
of the same document and variables, two under id "1" (one key: for each event
one of them writes the message through strawberry, the other is sent that
text) and one under id "2" (alone in its key: strawberry writes every one of
its messages). Every raw text the first two receive must equal the third's
with its id, and the server's shared-message counter must have risen by one
per event, so the comparison cannot pass with the lane never used.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from devstack.app_server import AppServer
from devstack.env import serve
from devstack.live_client import PROTOCOL, WAIT_S
from tests.utils.live import api_client, assign, change_status
from tests.utils.metrics import scrape, value

CUSTOMER, HOME_REP, OTHER_REP = "C-00021", "SR-001", "SR-002"  # C-00021 is SR-001's
EVENT_FIELDS = (
    "cursor",
    "customerId",
    "kind",
    "at",
    "actor",
    "fromStatus",
    "toStatus",
    "fromSalesRepId",
    "toSalesRepId",
    "salesRepId",
)
SHARED = "graphql_api_feed_messages_shared_total"


@pytest.fixture(scope="module")
def server() -> Iterator[AppServer]:
    with serve({"GRAPHQL_API_FEED_POLL_INTERVAL": "0.05"}) as app:
        yield app


@dataclass(frozen=True)
class Example:
    document: str
    variables: dict[str, str]
    # Each change: a note, and the rep to move the customer to (None: a status change).
    changes: list[tuple[str, str | None]]


@st.composite
def examples(draw: st.DrawFn) -> Example:
    fields = draw(st.lists(st.sampled_from(EVENT_FIELDS), unique=True, max_size=len(EVENT_FIELDS)))
    aliases = draw(st.lists(st.booleans(), min_size=len(fields) + 1, max_size=len(fields) + 1))
    # The note is always there (it marks the end), aliased or not.
    selected = [*fields, "note"]
    lines = [
        f"a{n}: {name}" if aliased else name
        for n, (name, aliased) in enumerate(zip(selected, aliases, strict=True))
    ]
    typename = "__typename" if draw(st.booleans()) else ""
    named = draw(st.booleans())
    spread = "...EventFields" if named else "... on CustomerFeedEvent { " + " ".join(lines) + " }"
    fragment = (
        "\nfragment EventFields on CustomerFeedEvent { " + " ".join(lines) + " }" if named else ""
    )
    document = (
        "subscription Lane($customerId: ID, $salesRepId: ID) {\n"
        "  customerEvents(customerId: $customerId, salesRepId: $salesRepId) {\n"
        f"    {typename} {spread} ... on CustomerFeedStatus {{ state }}\n"
        "  }\n}" + fragment
    )
    variables = draw(st.sampled_from([{"customerId": CUSTOMER}, {"salesRepId": HOME_REP}, {}]))
    notes = st.text(max_size=24)
    changes = draw(
        st.lists(
            st.tuples(notes, st.sampled_from([None, None, OTHER_REP, HOME_REP])),
            min_size=1,
            max_size=4,
        )
    )
    return Example(document, variables, changes)


async def _subscribe(base_url: str, example: Example, id: str) -> ClientConnection:
    socket = await connect(
        base_url.replace("http://", "ws://", 1) + "/graphql",
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        open_timeout=WAIT_S,
    )
    await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    payload = {"query": example.document, "variables": example.variables}
    await socket.send(json.dumps({"id": id, "type": "subscribe", "payload": payload}))
    live = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    assert live["payload"]["data"]["customerEvents"]["state"] == "LIVE", live
    return socket


async def _texts_until(socket: ClientConnection, end: str) -> list[str]:
    """The raw texts of the `next` messages up to the one whose event carries `end`."""
    texts: list[str] = []
    while True:
        text = await asyncio.wait_for(socket.recv(), WAIT_S)
        assert isinstance(text, str)
        message: dict[str, Any] = json.loads(text)
        if message["type"] == "ping":
            continue
        assert message["type"] == "next", message
        texts.append(text)
        if end in message["payload"]["data"]["customerEvents"].values():
            return texts


def _shared(base_url: str) -> float:
    with httpx.Client(base_url=base_url, timeout=WAIT_S) as http:
        samples, _ = scrape(http)
    return value(samples, SHARED)


async def _run(base_url: str, example: Example) -> tuple[list[list[str]], float]:
    """Each subscription's texts (the id "1" ones first) and the rise of the counter."""
    sockets = [await _subscribe(base_url, example, id) for id in ("1", "1", "2")]
    try:
        return await _changes_seen(base_url, example, sockets)
    finally:
        for socket in sockets:
            await socket.close()


async def _changes_seen(
    base_url: str, example: Example, sockets: list[ClientConnection]
) -> tuple[list[list[str]], float]:
    end = f"end-{uuid.uuid4().hex}"
    async with api_client(base_url) as http:
        shared_before = _shared(base_url)
        rep = HOME_REP
        for note, to_rep in example.changes:
            if to_rep is None or to_rep == rep:
                await change_status(http, CUSTOMER, note)
            else:
                await assign(http, CUSTOMER, to_rep, note)
                rep = to_rep
        # The end reaches every filter: the customer back with its rep, then a change.
        if rep != HOME_REP:
            await assign(http, CUSTOMER, HOME_REP, "home")
        await change_status(http, CUSTOMER, end)
        texts = [await _texts_until(socket, end) for socket in sockets]
        shared = _shared(base_url) - shared_before
    return texts, shared


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(example=examples())
def test_a_shared_delivery_is_the_message_strawberry_writes(
    server: AppServer, example: Example
) -> None:
    (first, second, alone), shared = asyncio.run(_run(server.base_url, example))
    prefix_alone, prefix_shared = '{"id":"2",', '{"id":"1",'
    assert all(text.startswith(prefix_alone) for text in alone), alone
    written = [prefix_shared + text.removeprefix(prefix_alone) for text in alone]
    assert first == written
    assert second == written
    # For each event one of the two id "1" subscriptions was sent the other's text.
    assert shared == len(written)

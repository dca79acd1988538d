"""The feed bench's subscribers: websockets' sans-I/O protocol on a plain asyncio
transport, each message handled as its bytes arrive.

The bench shares the server's cores, so what it spends per message is taken
from the server it measures. LiveClient (the tests' client) reads in a task per
connection and hands each message on through a queue to a task waiting for it:
a wake-up or two per message, 83 us a delivery with its websocket machinery.
Here a connection is an asyncio.Protocol: the frames of one read are parsed and
each `next` handed to a callback in the same call, no task, future or queue per
message. It speaks graphql-transport-ws as LiveClient does (connection_init
with the token, permessage-deflate as browsers ask, pongs to the server's pings).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from devstack.live_client import PROTOCOL, WAIT_S

# One subscription per connection, under this id.
ID = "1"
# A `next` message's data and when its bytes arrived (time.perf_counter()).
OnData = Callable[[dict[str, Any], float], None]


class SubscriberFailed(Exception):
    """The connection or the subscription ended other than by close()."""


class FeedSubscriber(asyncio.Protocol):
    def __init__(
        self,
        url: str,
        *,
        token: str,
        document: str,
        variables: Mapping[str, object],
        on_data: OnData,
    ) -> None:
        self._ws = ClientProtocol(
            parse_uri(url),
            subprotocols=[Subprotocol(PROTOCOL)],
            extensions=enable_client_permessage_deflate(None),
        )
        self._token = token
        self._subscribe = {
            "id": ID,
            "type": "subscribe",
            "payload": {"query": document, "variables": dict(variables)},
        }
        self._on_data = on_data
        self._transport: asyncio.Transport | None = None
        # The first `next` (the subscription's status) resolves it; the rest go to on_data.
        self.first: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._closing = False

    @classmethod
    async def open(
        cls,
        base_url: str,
        *,
        token: str,
        document: str,
        variables: Mapping[str, object],
        on_data: OnData,
    ) -> tuple[FeedSubscriber, dict[str, Any]]:
        """Connected, subscribed, and the subscription's first message's data."""
        url = base_url.replace("http://", "ws://", 1) + "/graphql"
        uri = parse_uri(url)
        loop = asyncio.get_running_loop()
        _, subscriber = await loop.create_connection(
            lambda: cls(url, token=token, document=document, variables=variables, on_data=on_data),
            uri.host,
            uri.port,
        )
        first = await asyncio.wait_for(asyncio.shield(subscriber.first), WAIT_S)
        return subscriber, first

    def close(self) -> None:
        self._closing = True
        if self._transport is not None and not self._transport.is_closing():
            self._ws.send_close()
            self._flush()
            self._transport.close()

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._ws.send_request(self._ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        received = time.perf_counter()
        self._ws.receive_data(data)
        for event in self._ws.events_received():
            if isinstance(event, Response):
                if self._ws.handshake_exc is not None:
                    self._fail(f"handshake: {self._ws.handshake_exc}")
                    return
                init = {"Authorization": f"Bearer {self._token}"}
                self._send({"type": "connection_init", "payload": init})
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                # The server sends each message in one frame.
                if not event.fin:
                    self._fail("a fragmented message")
                    return
                self._message(orjson.loads(event.data), received)
        self._flush()

    def eof_received(self) -> bool | None:
        self._ws.receive_eof()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closing:
            self._fail(f"connection lost: {self._ws.close_code} {exc!r}")

    # -- graphql-transport-ws --------------------------------------------------

    def _message(self, message: dict[str, Any], received: float) -> None:
        kind = message.get("type")
        if kind == "next" and message.get("id") == ID and "errors" not in message["payload"]:
            data: dict[str, Any] = message["payload"]["data"]
            if self.first.done():
                self._on_data(data, received)
            else:
                self.first.set_result(data)
        elif kind == "ping":
            self._send({"type": "pong"})
        elif kind == "connection_ack":
            self._send(self._subscribe)
        else:
            self._fail(f"unexpected message: {message}")

    def _send(self, message: dict[str, Any]) -> None:
        self._ws.send_text(orjson.dumps(message))

    def _flush(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            for data in self._ws.data_to_send():
                if data:
                    self._transport.write(data)

    def _fail(self, why: str) -> None:
        failure = SubscriberFailed(why)
        for future in (self.first, self.failed):
            if not future.done():
                future.set_exception(failure)
        if self._transport is not None:
            self._transport.close()

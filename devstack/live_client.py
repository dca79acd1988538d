"""A graphql-transport-ws client for the tests and the benchmark: the app's
subscriptions as a front end's graphql-ws client uses them.

One reader task per connection sorts the server's messages by operation id;
`ping`s are answered with `pong` unless the test says otherwise.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Mapping
from typing import Any, Self

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"
# Generous for a busy two-core machine; a test that waits this long has failed.
WAIT_S = 30.0

Message = dict[str, Any]


class Closed(Exception):
    """The server closed the socket; `code` and `reason` are its close frame's."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class LiveClient:
    def __init__(self, connection: ClientConnection, *, answer_pings: bool) -> None:
        self._connection = connection
        self._answer_pings = answer_pings
        self._queues: dict[str | None, asyncio.Queue[Message]] = {}
        self._closed = asyncio.get_running_loop().create_future()
        self._reading = asyncio.Event()
        self._reading.set()
        self._reader = asyncio.create_task(self._read())
        self._next_id = 0

    @classmethod
    async def open(
        cls,
        base_url: str,
        *,
        params: Mapping[str, object] | None = None,
        token: str | None = None,
        answer_pings: bool = True,
        receive_buffer: int | None = None,
        deflate: bool = True,
        acknowledged: bool = True,
    ) -> Self:
        """Connected and initialised (`connection_init` with `params`, or the token
        as an Authorization entry); waits for the ack unless `acknowledged` is False.
        `receive_buffer` sets the socket's receive buffer (bytes)."""
        url = base_url.replace("http://", "ws://", 1) + "/graphql"
        sock = None
        if receive_buffer is not None:
            # A small receive window: a client that stops reading stalls the server's sends.
            host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.connect((host, int(port)))
        connection = await connect(
            url,
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            sock=sock,
            open_timeout=WAIT_S,
            # permessage-deflate, as browsers ask for it; without it, every byte
            # of every message is on the wire (a slow consumer's test fills it).
            compression="deflate" if deflate else None,
        )
        client = cls(connection, answer_pings=answer_pings)
        payload = dict(params or {})
        if token is not None:
            payload["Authorization"] = f"Bearer {token}"
        await client.send({"type": "connection_init", "payload": payload})
        if acknowledged:
            ack = await client.next(None)
            assert ack["type"] == "connection_ack", ack
        return client

    async def send(self, message: Message) -> None:
        await self._connection.send(json.dumps(message))

    async def subscribe(
        self, query: str, variables: Mapping[str, object] | None = None, *, id: str | None = None
    ) -> str:
        if id is None:
            self._next_id += 1
            id = str(self._next_id)
        payload = {"query": query, "variables": dict(variables or {})}
        await self.send({"id": id, "type": "subscribe", "payload": payload})
        return id

    async def complete(self, id: str) -> None:
        await self.send({"id": id, "type": "complete"})

    async def next(self, id: str | None, timeout_s: float = WAIT_S) -> Message:
        """The next message for operation `id` (None: connection messages);
        raises Closed once the socket is closed and nothing is left."""
        queue = self._queue(id)
        if not queue.empty():
            # Most messages of a busy feed are waiting already: no task, no timer.
            return queue.get_nowait()
        if self._closed.done():
            raise self._closed.result()
        getting = asyncio.ensure_future(queue.get())
        done, _ = await asyncio.wait(
            [getting, self._closed], timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        if getting in done:
            return getting.result()
        getting.cancel()
        if self._closed in done:
            raise self._closed.result()
        raise TimeoutError(f"no message for operation {id!r} within {timeout_s} s")

    async def data(self, id: str, timeout_s: float = WAIT_S) -> dict[str, Any]:
        """The `data` of the next `next` message for `id` (asserting it has no errors)."""
        message = await self.next(id, timeout_s)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def closed(self, timeout_s: float = WAIT_S) -> Closed:
        """Waits for the server to close the socket."""
        return await asyncio.wait_for(asyncio.shield(self._closed), timeout_s)

    async def close(self) -> None:
        await self._connection.close()
        await self._reader

    def stall(self) -> None:
        """Stops reading, as a client that does not keep up: the socket stops draining."""
        self._reading.clear()

    def unstall(self) -> None:
        self._reading.set()

    def _queue(self, id: str | None) -> asyncio.Queue[Message]:
        # Not setdefault: its default, a new Queue per message, was most of the
        # client's CPU under the feed bench (bench/feed_latency.py).
        queue = self._queues.get(id)
        if queue is None:
            queue = self._queues[id] = asyncio.Queue()
        return queue

    async def _read(self) -> None:
        try:
            while True:
                await self._reading.wait()
                raw = await self._connection.recv()
                message: Message = orjson.loads(raw)
                if message.get("type") == "ping" and self._answer_pings:
                    await self.send({"type": "pong"})
                    continue
                self._queue(message.get("id")).put_nowait(message)
        except ConnectionClosed:
            pass
        connection = self._connection
        self._closed.set_result(Closed(connection.close_code, connection.close_reason or ""))

"""Request edges: headers and bodies too large, or too slow, are refused before
anything parses them; a client gone mid-body is nobody's error."""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.schema.limits import LIMIT_CODE
from graphql_api.web.error_body import send_json
from graphql_api.web.request_log import current_request, error_for_request

# Header count and size a request may bring. uvicorn's httptools parser takes any;
# a browser with cookies sends a few kilobytes, 20,000 headers or a megabyte are
# not a client but a probe.
MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024
# The status nginx logs for a client that closed before it was answered.
CLIENT_CLOSED = 499


class HeaderLimit:
    """ASGI middleware: at most MAX_HEADERS headers of MAX_HEADER_BYTES in all, else 431."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) for name, value in headers)
            if len(headers) > MAX_HEADERS or size > MAX_HEADER_BYTES:
                message = (
                    f"The request's headers are too large: at most {MAX_HEADERS} headers"
                    f" of {MAX_HEADER_BYTES} bytes in all."
                )
                body = error_for_request(message, {"code": "BAD_REQUEST"})
                await send_json(send, 431, body, close=True)
                return
        await self._app(scope, receive, send)


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of body, else 413 with a GraphQL-shaped error.

    A declared Content-Length over the limit is refused without reading; a
    chunked body is read up to the limit and refused at the first byte past
    it. An accepted body is replayed to the app as one message.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            await self._refuse(send)
            return
        body = bytearray()
        more = True
        try:
            async with asyncio.timeout(self._timeout_s):
                while more:
                    message = await receive()
                    if message["type"] != "http.request":
                        self._client_gone()
                        return
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > self._max_bytes:
                        await self._refuse(send)
                        return
        except TimeoutError:
            message_text = f"The request body did not arrive within {self._timeout_s:g} s."
            answer = error_for_request(message_text, {"code": "BAD_REQUEST"})
            # Closed after the answer: the rest of a stalled body is not waited for.
            await send_json(send, 408, answer, close=True)
            return
        replayed: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self._app(scope, _replay([replayed], receive), send)

    @staticmethod
    def _client_gone() -> None:
        """The client left before its body arrived: nobody to answer, nothing
        went wrong here (the access log says 499, at INFO)."""
        record = current_request()
        if record is not None:
            record.status = CLIENT_CLOSED

    async def _refuse(self, send: Send) -> None:
        limit = self._max_bytes
        extensions = {"code": LIMIT_CODE, "limit": "body", "maximum": limit}
        body = error_for_request(f"The request body is larger than {limit} bytes.", extensions)
        await send_json(send, 413, body)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay

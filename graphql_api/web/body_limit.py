"""Request bodies larger than the limit are refused before anything parses them."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.schema.limits import LIMIT_CODE
from graphql_api.web.error_body import send_json
from graphql_api.web.request_log import error_for_request


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of body, else 413 with a GraphQL-shaped error.

    A declared Content-Length over the limit is refused without reading; a
    chunked body is read up to the limit and refused at the first byte past
    it. An accepted body is replayed to the app as one message.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

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
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client left; let the app see the disconnect as it would.
                await self._app(scope, _replay([message], receive), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self._max_bytes:
                await self._refuse(send)
                return
        replayed: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self._app(scope, _replay([replayed], receive), send)

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

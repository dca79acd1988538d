"""`Cache-Control: no-store` on every API answer (GraphQL and the REST routes).

An answer holds one caller's view of customers, rights included: no shared
cache (a proxy, a CDN) and no browser cache may keep it. A response that says
otherwise itself (GraphiQL's page at /graphql) keeps its own.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NoStore:
    """ASGI middleware: `Cache-Control: no-store` on responses to paths `is_api_path` names."""

    def __init__(self, app: ASGIApp, *, is_api_path: Callable[[str], bool]) -> None:
        self._app = app
        self._is_api_path = is_api_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_api_path(scope["path"]):
            await self._app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self._app(scope, receive, send_no_store)

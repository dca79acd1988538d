"""Subscriptions over a websocket at /graphql: strawberry's graphql-transport-ws,
with the limits and the authentication a public endpoint needs.

- The token travels in `connection_init` (`{"Authorization": "Bearer ..."}`,
  what GraphiQL sends from its Headers tab); none or a bad one closes the
  socket with the protocol's 4403, and so does the token expiring while the
  socket is open. Viewers may subscribe; the schema's access rules apply.
- The socket carries subscriptions only: queries and mutations go over HTTP,
  where the request timeout, admission and the fast path apply.
- Limits: subscriptions per connection (an `error` message, QUERY_LIMIT_EXCEEDED)
  and per process (OVERLOADED, from the hub), the size of a client's message
  (1009), the time to `connection_init` (4408).
- Keepalive: a protocol `ping` every GRAPHQL_API_WS_KEEPALIVE seconds; a
  client that has not answered the last one by the next is gone (1001).
- A subscriber whose buffer fills (its socket does not drain) has its
  connection closed with 1013, "try again later": it reconnects and resumes
  from its last cursor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Mapping
from datetime import timedelta
from json import JSONDecodeError
from typing import Any

import jwt
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    PongMessage,
    SubscribeMessage,
)

from graphql_api.context import Context
from graphql_api.feed.subscription import FeedAccess
from graphql_api.loaders import create_loaders
from graphql_api.principal import AUTH_OFF, Principal
from graphql_api.schema.delivery_lane import current_lane
from graphql_api.schema.limits import LIMIT_CODE
from graphql_api.settings import Settings
from graphql_api.stores.fair_gate import current_caller
from graphql_api.stores.usage import StoreUsage
from graphql_api.web.auth import AuthenticationFailed, Authenticator
from graphql_api.web.execution import Execution
from graphql_api.web.json_body import encode_json
from graphql_api.web.live_lane import OperationLane
from graphql_api.web.metrics import Metrics
from graphql_api.web.request_log import request_id_from

log = logging.getLogger("graphql_api.web.live")

FORBIDDEN = 4403
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013
POLICY_VIOLATION = 1008
GOING_AWAY = 1001
# Until connection_init has been checked, the connection may do nothing.
_NOBODY = Principal(subject=None, roles=frozenset())


class _SizedSocket(ASGIWebSocketAdapter):
    """Reads client messages no larger than the configured size."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        view = self.view
        assert isinstance(view, LiveView)
        limit = view.settings.feed.max_message_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if len(text) > limit or len(text.encode()) > limit:
                    await self.close(MESSAGE_TOO_BIG, f"A message may be at most {limit} bytes.")
                    return
                try:
                    yield view.decode_json(text)
                except JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            return

    async def send_text(self, text: str) -> None:
        """A message encoded already (web/live_lane.py), as send_json sends one."""
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class _LiveHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """One connection: authentication at init, token expiry, keepalive, limits."""

    view: LiveView

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._opened = time.monotonic()
        self._timers: list[asyncio.TimerHandle] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._pong_awaited = False
        self._closed_with: tuple[int, str] | None = None
        self._subscriptions = 0
        # Who holds this connection, once connection_init admitted it.
        self._caller: str | None = None

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            for timer in self._timers:
                timer.cancel()
            for task in self._tasks:
                task.cancel()
            if self._caller is not None:
                # Before the subscriptions end (the subscriber gauge a test waits on).
                self.view.release_connection(self._caller)
            if self.context.live is not None:
                await self.context.live.close_all()
            code, reason = self._closed_with or (1000, "client")
            log.info(
                "websocket closed after %.1f s: %d subscriptions, close %d (%s)",
                time.monotonic() - self._opened,
                self._subscriptions,
                code,
                reason,
            )

    async def _close(self, code: int, reason: str) -> None:
        if self._closed_with is not None:
            return  # closing already: the first reason stands
        self._closed_with = (code, reason)
        await self.websocket.close(code=code, reason=reason)

    def _later(self, delay_s: float, code: int, reason: str) -> None:
        def close() -> None:
            task = asyncio.create_task(self._close(code, reason))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._timers.append(asyncio.get_running_loop().call_later(delay_s, close))

    # -- connection_init -------------------------------------------------------

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self._close(4400, "Invalid connection init payload")
            return
        if self.connection_init_received:
            await self._close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        outcome = self.view.authenticate(payload)
        if isinstance(outcome, AuthenticationFailed):
            await self._close(FORBIDDEN, outcome.message)
            return
        principal, expires_in_s = outcome
        # Without auth every caller is AUTH_OFF: the address tells them apart.
        caller = principal.subject or self.view.client_of(self.websocket)
        if not self.view.take_connection(caller):
            limit = self.view.settings.feed.max_connections_per_caller
            await self._close(POLICY_VIOLATION, f"A caller may hold {limit} connections at most.")
            return
        self._caller = caller
        self._accept(principal, caller)
        if expires_in_s is not None:
            self._later(expires_in_s, FORBIDDEN, "The bearer token has expired.")
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        keepalive = asyncio.create_task(self._keepalive())
        self._tasks.add(keepalive)

    def _accept(self, principal: Principal, caller: str) -> None:
        context = self.context
        context.principal = principal
        context.actor = principal.subject
        context.live = FeedAccess(context.feed_hub, caller=caller, on_drop=self._dropped)
        # The subscriptions' reads (a replay) take their turns at the pool as this caller.
        current_caller.set(caller)

    def _dropped(self, reason: str) -> None:
        buffered = self.view.settings.feed.buffer_messages
        self._later(0, TRY_AGAIN_LATER, f"Too slow: {buffered} messages waited ({reason}).")

    # -- keepalive -------------------------------------------------------------

    async def _keepalive(self) -> None:
        interval = self.view.settings.feed.keepalive_s
        while True:
            await asyncio.sleep(interval)
            if self._pong_awaited:
                await self._close(GOING_AWAY, f"No pong within {interval:g} s.")
                return
            self._pong_awaited = True
            await self.send_message({"type": "ping"})

    async def handle_pong(self, message: PongMessage) -> None:
        self._pong_awaited = False

    # -- delivery lanes (schema/delivery_lane.py) ------------------------------

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # The operation's task runs its resolver: the lane set here is the one
        # it finds (this task's context is its own copy).
        websocket = self.websocket
        assert isinstance(websocket, _SizedSocket)
        metrics: Metrics = websocket.ws.app.state.metrics
        lane = OperationLane.of(
            operation, send_text=websocket.send_text, on_shared=metrics.feed_message_shared
        )
        current_lane.set(lane)
        await super().run_operation(operation)

    async def send_message(self, message: Message) -> None:
        lane = current_lane.get()
        if message["type"] != "next" or not isinstance(lane, OperationLane):
            await super().send_message(message)
            return
        text = self.view.encode_json(message)
        # A message with errors names its request: never another subscriber's.
        lane.written(message["id"], text, shared="errors" not in message["payload"])
        websocket = self.websocket
        assert isinstance(websocket, _SizedSocket)
        await websocket.send_text(text)

    # -- subscribe -------------------------------------------------------------

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # the protocol's 4401 or 4409
            return
        payload = message["payload"]
        if _operation_type(payload.get("query"), payload.get("operationName")) not in (
            None,
            OperationType.SUBSCRIPTION,
        ):
            refusal = GraphQLError(
                "This socket carries subscriptions; send queries and mutations over HTTP.",
                extensions={"code": "BAD_REQUEST"},
            )
            await self._refuse(message["id"], refusal)
            return
        limit = self.view.settings.feed.max_subscriptions_per_connection
        if len(self.operations) >= limit:
            refusal = GraphQLError(
                f"A connection may hold at most {limit} subscriptions.",
                extensions={
                    "code": LIMIT_CODE,
                    "limit": "subscriptionsPerConnection",
                    "maximum": limit,
                    "actual": len(self.operations) + 1,
                },
            )
            await self._refuse(message["id"], refusal)
            return
        self._subscriptions += 1
        await super().handle_subscribe(message)

    async def _refuse(self, operation_id: str, error: GraphQLError) -> None:
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})


def _operation_type(query: object, operation_name: object) -> OperationType | None:
    """The operation's type; None when strawberry must judge the document (it
    answers syntax errors and unknown operations as the protocol says)."""
    if not isinstance(query, str) or not isinstance(operation_name, str | None):
        return None
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLError:
        return None
    return None if operation is None else operation.operation


class LiveView(GraphQL[Context, None]):
    """The websocket side of /graphql (the HTTP side is web/graphql_view.py)."""

    graphql_transport_ws_handler_class = _LiveHandler
    websocket_adapter_class = _SizedSocket

    def __init__(self, execution: Execution) -> None:
        settings = execution.settings
        super().__init__(
            execution.schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.feed.init_timeout_s),
            # Counted by _LiveHandler, which answers with the limit's code.
            max_subscriptions_per_connection=None,
            # Pages on the origins CORS allows may connect, as they may fetch.
            allowed_origins=settings.serving.cors_origins,
        )
        self.settings: Settings = settings
        self._authenticator = Authenticator(settings.auth) if settings.auth is not None else None
        # Admitted connections by caller: subscriptions per caller are bounded by
        # the hub, and so are the connections (each holds a socket and a context).
        self._connections: dict[str, int] = {}

    async def get_context(self, request: WebSocket, response: WebSocket) -> Context:  # type: ignore[override]
        resources = request.app.state.resources
        usage = StoreUsage()
        stores = resources.stores.for_request(usage)
        return Context(
            loaders=create_loaders(stores),
            writer=stores,
            settings=self.settings,
            request_id=request_id_from(request.headers.get("x-request-id")),
            store_usage=usage,
            principal=_NOBODY,
            feed_hub=request.app.state.feed_hub,
        )

    def authenticate(
        self, params: Mapping[str, object]
    ) -> tuple[Principal, float | None] | AuthenticationFailed:
        """The caller `connection_init` names, and the seconds until its token expires."""
        if self._authenticator is None:
            return AUTH_OFF, None
        given = params.get("Authorization", params.get("authorization"))
        authorization = given if isinstance(given, str) else None
        outcome = self._authenticator.authenticate(authorization)
        if isinstance(outcome, AuthenticationFailed):
            return outcome
        assert authorization is not None
        assert self.settings.auth is not None
        # Verified just now: the claims are read again only for the expiry.
        token = authorization.strip().partition(" ")[2].strip()
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        leeway = self.settings.auth.leeway_s
        return outcome, max(0.0, float(expires) + leeway - time.time())

    def take_connection(self, caller: str) -> bool:
        """Counts one more connection for `caller`; False when it holds as many as one may."""
        held = self._connections.get(caller, 0)
        if held >= self.settings.feed.max_connections_per_caller:
            return False
        self._connections[caller] = held + 1
        return True

    def release_connection(self, caller: str) -> None:
        held = self._connections.pop(caller) - 1
        if held:
            self._connections[caller] = held

    def encode_json(self, data: object) -> str:
        # orjson, as the HTTP answers (web/json_body.py); a text frame, as clients expect.
        return encode_json(data).decode()

    @staticmethod
    def client_of(websocket: Any) -> str:
        client = getattr(getattr(websocket, "ws", None), "client", None)
        return client.host if client is not None else "unknown"

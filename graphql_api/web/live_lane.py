"""The websocket side of a subscription's delivery lane (schema/delivery_lane.py).

A lane is keyed by what decides a delivery's message: the document, the
operation name, the variables and the operation id (the message names it).
The first subscription of a key to see an event writes its message through
strawberry; the lane keeps that text on the event's Delivery, and every other
subscription of the key on this process sends the same text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from graphql_api.context import Context
from graphql_api.feed.hub import Delivery

# Marks a lane's entries in Delivery.memo apart from the schema's.
_TEXT = "next-message-text"


class OperationLane:
    """One subscription's lane: sends the text kept for its key, or notes
    which delivery its next `next` message is the text of."""

    __slots__ = ("_key", "_on_shared", "_operation", "_send_text", "_writing")

    def __init__(
        self,
        operation: Operation[Context, None],
        key: tuple[object, ...],
        *,
        send_text: SendText,
        on_shared: Callable[[], None],
    ) -> None:
        self._operation = operation
        self._key = key
        self._send_text = send_text
        self._on_shared = on_shared
        self._writing: Delivery | None = None

    @classmethod
    def of(
        cls,
        operation: Operation[Context, None],
        *,
        send_text: SendText,
        on_shared: Callable[[], None],
    ) -> OperationLane | None:
        """The operation's lane; None when its variables cannot be a key (then
        every message takes strawberry's path)."""
        try:
            variables = orjson.dumps(operation.variables, option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            return None
        key = (_TEXT, operation.query, operation.operation_name, variables, operation.id)
        return cls(operation, key, send_text=send_text, on_shared=on_shared)

    async def send_written(self, delivery: Delivery) -> bool:
        text = delivery.memo.get(self._key)
        if not isinstance(text, str):
            self._writing = delivery
            return False
        # As strawberry's Operation does: nothing after `complete` or `error`.
        if not self._operation.completed:
            self._on_shared()
            await self._send_text(text)
        return True

    def written(self, operation_id: str, text: str, *, shared: bool) -> None:
        """The text of this operation's `next` message just written by strawberry;
        kept for the others of the key when it was a delivery's and `shared`."""
        delivery, self._writing = self._writing, None
        if delivery is not None and shared and operation_id == self._operation.id:
            delivery.memo[self._key] = text


SendText = Callable[[str], Awaitable[None]]

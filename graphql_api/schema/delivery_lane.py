"""A delivery's message written once, sent as text to every subscriber that asked the same.

Even with one execution per event (shared_events.py), each subscriber's copy
of an event went through graphql-core's per-event mapping, strawberry's stream
and its extension hooks, and was JSON-encoded again: four fifths of the
server's CPU per delivery, for a message that is the same bytes for every
subscriber with the same document, variables and operation id.

The websocket layer (web/live.py) gives each subscription a lane, set in
`current_lane` for the subscription's task. A delivery whose message the lane
has already seen for its key is sent as that text, and the event never enters
graphql-core; any other goes through execution as before, and the lane keeps
the text it became (unless it carries errors: those name the request). So the
first subscriber of a key pays the full path, and what it sent is what the
others get, byte for byte (tests/test_delivery_lane.py holds the two paths to
each other).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Protocol

from graphql_api.feed.hub import Delivery


class DeliveryLane(Protocol):
    async def send_written(self, delivery: Delivery) -> bool:
        """True when the delivery's message was written already for this
        subscription's key and has now been sent; False: it must be executed
        (the lane then keeps the text of the operation's next message)."""


# The lane of the subscription whose task runs; None over HTTP and in tests
# that execute the schema directly.
current_lane: ContextVar[DeliveryLane | None] = ContextVar("current_lane", default=None)

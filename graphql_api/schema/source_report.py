"""Every response says which stores served it: `extensions.stores`.

`used` lists the stores (by `source` name) that answered some part, in the
order they first did; `degraded` is true when a part came from a fallback
store, or no store could answer it. The store chain fills the request's
StoreUsage; this only reports it, so the schema never learns store details.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from graphql_api.loaders import Loaders
from graphql_api.stores.usage import StoreUsage


def stores_extension(usage: StoreUsage) -> dict[str, Any]:
    """The `extensions` entry for one request's StoreUsage."""
    return {"stores": {"used": usage.used_names(), "degraded": usage.degraded}}


class SourceReport(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        yield
        # An error that nulls the whole answer ends execution while reads of
        # other fields may still be in flight; whether they are done before the
        # answer goes would make `used` a matter of timing. They finish first.
        loaders = getattr(self.execution_context.context, "loaders", None)
        if isinstance(loaders, Loaders):
            await loaders.settle()

    def get_results(self) -> dict[str, Any]:
        # Asked for every message of a subscription: the answer is kept.
        subscription = self.__dict__.get("_subscription")
        if subscription is None:
            subscription = self.__dict__["_subscription"] = _is_subscription(self.execution_context)
        if subscription:
            # A subscription's messages come from the feed's one poll, not from
            # reads of their own: nothing per message to report.
            return {}
        usage = getattr(self.execution_context.context, "store_usage", None)
        if not isinstance(usage, StoreUsage):
            return {}
        return stores_extension(usage)


def _is_subscription(execution: ExecutionContext) -> bool:
    if execution.graphql_document is None:
        return False
    try:
        return execution.operation_type is OperationType.SUBSCRIPTION
    except RuntimeError:  # no operation of that name: not a subscription's message
        return False

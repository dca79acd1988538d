"""Every response says which stores served it: `extensions.stores`.

`used` lists the stores (by `source` name) that answered some part, in the
order they first did; `degraded` is true when a part came from a fallback
store, or no store could answer it. The store chain fills the request's
StoreUsage; this only reports it, so the schema never learns store details.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from graphql_api.stores.usage import StoreUsage


def stores_extension(usage: StoreUsage) -> dict[str, Any]:
    """The `extensions` entry for one request's StoreUsage."""
    return {"stores": {"used": usage.used_names(), "degraded": usage.degraded}}


class SourceReport(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        usage = getattr(self.execution_context.context, "store_usage", None)
        if not isinstance(usage, StoreUsage):
            return {}
        return stores_extension(usage)

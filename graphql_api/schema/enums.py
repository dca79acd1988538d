"""GraphQL enums: the records' own enums, registered with strawberry.

One definition serves stores and schema; registering here (at import, which
opens nothing) adds the GraphQL names and descriptions.
"""

from __future__ import annotations

import strawberry

from graphql_api.stores.records import CustomerEventKind, CustomerStatus, DataSource

strawberry.enum(DataSource, description="The store that served an object.")
strawberry.enum(CustomerStatus, description="Where a customer stands.")
strawberry.enum(CustomerEventKind, description="What a change in a customer's history did.")

__all__ = ["CustomerEventKind", "CustomerStatus", "DataSource"]

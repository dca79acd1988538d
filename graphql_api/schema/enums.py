"""GraphQL enums, registered from the records' enums so there is one definition."""

from __future__ import annotations

import strawberry

from graphql_api.stores import records

DataSource = strawberry.enum(
    records.DataSource, description="The store that served an object."
)
CustomerStatus = strawberry.enum(records.CustomerStatus, description="Where a customer stands.")
CustomerEventKind = strawberry.enum(
    records.CustomerEventKind, description="What a change in a customer's history did."
)

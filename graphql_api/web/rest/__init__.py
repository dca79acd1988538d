"""The replaced REST function's routes, as thin adapters over stored GraphQL operations."""

"""The HTTP layer: the GraphQL view, auth, body limit, request log, health, metrics, GraphiQL."""

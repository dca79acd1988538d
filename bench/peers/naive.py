"""The naive peer: the API's own schema, stores and REST routes, resolved without DataLoaders.

Every loader is switched to `batch=False, cache=False`, so each resolver call
is its own store call: one statement per parent (the N+1 pattern), nothing
shared between fields. Everything else (schema, stores, SQL, settings) is the
API's, so the difference to the API is the DataLoaders alone.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.peers.serve import serve
from graphql_api.context import Context
from graphql_api.loaders import create_loaders
from graphql_api.principal import Principal
from graphql_api.resources import open_resources
from graphql_api.settings import Settings
from graphql_api.web.execution import Execution
from graphql_api.web.graphql_view import GraphQLView
from graphql_api.web.rest.routes import rest_routes


class NaiveExecution(Execution):
    """The API's execution with every DataLoader unbatched and uncached, for
    GraphQL requests and the REST routes alike."""

    def context_for(self, request: Request, principal: Principal) -> Context:
        context = super().context_for(request, principal)
        context.loaders = create_loaders(context.writer, batching=False)
        return context


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.resources = await open_resources(settings)
        try:
            yield
        finally:
            await app.state.resources.aclose()

    # strawberry's execution, as before the fast path: the naive peer shows
    # what the DataLoaders save, not what the fast path does.
    execution = NaiveExecution(replace(settings, fast_path=False))
    return Starlette(
        routes=[
            Route("/graphql", GraphQLView(execution), methods=["GET", "POST"]),
            Route("/healthz", healthz),
            *rest_routes(execution),
        ],
        lifespan=lifespan,
    )


if __name__ == "__main__":
    serve("naive", create_app, sys.argv[1:])

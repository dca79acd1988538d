"""The naive peer: the API's own schema and stores, resolved without DataLoaders.

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
from graphql_api.resources import open_resources
from graphql_api.settings import Settings
from graphql_api.web.execution import Execution
from graphql_api.web.graphql_view import GraphQLView


class NaiveEndpoint(GraphQLView):
    async def get_context(self, request: Request, response: Response | None = None) -> Context:  # type: ignore[override]
        context = await super().get_context(request, response)
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

    return Starlette(
        routes=[
            # strawberry's execution, as before the fast path: the naive peer shows
            # what the DataLoaders save, not what the fast path does.
            Route(
                "/graphql",
                NaiveEndpoint(Execution(replace(settings, fast_path=False))),
                methods=["GET", "POST"],
            ),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


if __name__ == "__main__":
    serve("naive", create_app, sys.argv[1:])

"""create_app(settings) -> the Starlette app: routes, GraphQL endpoint, lifespan."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from graphql.error import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from graphql_api.context import Context
from graphql_api.graphiql import graphiql_routes, with_graphiql
from graphql_api.loaders import create_loaders
from graphql_api.resources import Resources, open_resources
from graphql_api.schema import build_schema
from graphql_api.settings import Settings, load_settings
from graphql_api.stores.usage import StoreUsage

log = logging.getLogger("graphql_api.app")

# A client's X-Request-ID is kept only when it is short and plain, so it can
# go into logs without escaping.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_of(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, settings: Settings) -> None:
        # No strawberry page: it loads GraphiQL from a CDN. graphql_api.graphiql serves ours.
        super().__init__(build_schema(), graphql_ide=None)
        self._settings = settings

    async def get_context(self, request: Request, response: Response | None = None) -> Context:  # type: ignore[override]
        resources: Resources = request.app.state.resources
        usage = StoreUsage()
        stores = resources.stores.for_request(usage)
        return Context(
            loaders=create_loaders(stores),
            writer=stores,
            settings=self._settings,
            request_id=request_id_of(request),
            store_usage=usage,
        )

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """The whole operation within GRAPHQL_API_REQUEST_TIMEOUT: a stalled store
        or a slow resolver ends in a TIMEOUT error, never a hanging request."""
        limit = self._settings.resilience.request_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            context = kwargs.get("context")
            request_id = getattr(context, "request_id", "unknown")
            log.warning("request timed out after %s s request_id=%s", limit, request_id)
            error = GraphQLError(
                f"The request took longer than {limit:g} s and was stopped.",
                extensions={"code": "TIMEOUT", "requestId": request_id},
            )
            return ExecutionResult(data=None, errors=[error])


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _home(request: Request) -> Response:
    return RedirectResponse("/graphql")


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
            Route(
                "/graphql",
                with_graphiql(GraphQLEndpoint(settings), enabled=settings.graphiql),
                methods=["GET", "POST"],
            ),
            *graphiql_routes(enabled=settings.graphiql),
            Route("/healthz", _healthz),
            Route("/", _home),
        ],
        lifespan=lifespan,
    )


def create_app_from_env() -> Starlette:
    """For `uvicorn --factory` and worker processes: settings from the environment."""
    return create_app(load_settings(os.environ))

"""create_app(settings) -> the Starlette app: routes, GraphQL endpoint, lifespan."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from graphql_api.auth import Authenticator
from graphql_api.body_limit import BodyLimit
from graphql_api.context import Context
from graphql_api.endpoint import GuardedGraphQL
from graphql_api.graphiql import graphiql_routes, with_graphiql
from graphql_api.health import healthz, readyz
from graphql_api.loaders import create_loaders
from graphql_api.metrics import Metrics, metrics_endpoint
from graphql_api.request_log import RequestObservation, current_request, request_id_from
from graphql_api.resources import Resources, open_resources
from graphql_api.schema import build_schema
from graphql_api.settings import Settings, load_settings
from graphql_api.stores.usage import StoreUsage

log = logging.getLogger("graphql_api.app")


def request_id_of(request: Request) -> str:
    """The id RequestObservation chose for this request (the client's, if plain)."""
    chosen = request.scope.get("state", {}).get("request_id")
    return str(chosen) if chosen else request_id_from(request.headers.get("x-request-id"))


def _log_auth(settings: Settings, authenticator: Authenticator | None) -> None:
    if authenticator is None or settings.auth is None:
        log.warning(
            "authentication is OFF (development): every request may query and mutate,"
            " and changes record no actor"
        )
        return
    log.info(
        "authentication: bearer JWT %s, issuer %s, audience %s, roles claim %r",
        authenticator.algorithm,
        settings.auth.issuer or "not checked",
        settings.auth.audience or "not checked",
        settings.auth.roles_claim,
    )


class GraphQLEndpoint(GuardedGraphQL):
    def __init__(self, settings: Settings) -> None:
        authenticator = Authenticator(settings.auth) if settings.auth is not None else None
        _log_auth(settings, authenticator)
        # No strawberry page: it loads GraphiQL from a CDN. graphql_api.graphiql serves ours.
        super().__init__(
            build_schema(limits=settings.limits, production=settings.is_production),
            limits=settings.limits,
            authenticator=authenticator,
            graphql_ide=None,
        )
        self._settings = settings

    async def get_context(self, request: Request, response: Response | None = None) -> Context:  # type: ignore[override]
        principal = self.principal_of(request)
        resources: Resources = request.app.state.resources
        # One record of the stores used: the chain fills it, the response's
        # extensions, the access log and the metrics all read it.
        usage = StoreUsage()
        record = current_request()
        if record is not None:
            record.store_usage = usage
        stores = resources.stores.for_request(usage)
        return Context(
            loaders=create_loaders(stores),
            writer=stores,
            settings=self._settings,
            request_id=request_id_of(request),
            store_usage=usage,
            actor=principal.subject,
            principal=principal,
        )


async def _home(request: Request) -> Response:
    return RedirectResponse("/graphql")


def _middleware(settings: Settings, metrics: Metrics) -> list[Middleware]:
    # Outermost first: every request gets an id and a log line, refusals included.
    middleware = [Middleware(RequestObservation, observer=metrics)]
    if settings.serving.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.serving.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    middleware.append(Middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes))
    return middleware


def create_app(settings: Settings) -> Starlette:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.resources = await open_resources(settings, observer=metrics)
        metrics.watch_pools(app.state.resources.pool_usage)
        try:
            yield
        finally:
            # Uvicorn has let the in-flight requests finish before this runs.
            await app.state.resources.aclose()
            log.info("resources closed")

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                with_graphiql(GraphQLEndpoint(settings), enabled=settings.graphiql),
                methods=["GET", "POST"],
            ),
            *graphiql_routes(enabled=settings.graphiql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/", _home),
        ],
        middleware=_middleware(settings, metrics),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    return app


def create_app_from_env() -> Starlette:
    """For `uvicorn --factory` and worker processes: settings from the environment."""
    return create_app(load_settings(os.environ))

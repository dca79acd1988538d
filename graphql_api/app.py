"""create_app(settings) -> the Starlette app: routes, GraphQL endpoint, lifespan."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from graphql_api.feed.hub import FeedHub, running_hub
from graphql_api.resources import open_resources
from graphql_api.settings import Settings, load_settings
from graphql_api.stores.observer import StoreObserver
from graphql_api.web.body_limit import BodyLimit, HeaderLimit
from graphql_api.web.compression import Compression
from graphql_api.web.execution import Execution
from graphql_api.web.graphiql import graphiql_routes, with_graphiql
from graphql_api.web.graphql_view import GraphQLView
from graphql_api.web.health import healthz, readyz
from graphql_api.web.live import LiveView
from graphql_api.web.metrics import Metrics, metrics_endpoint
from graphql_api.web.request_log import RequestObservation
from graphql_api.web.rest.routes import is_rest_path, no_such_route, rest_routes

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from graphql_api.tracing.setup import Tracing

log = logging.getLogger("graphql_api.app")


async def _home(request: Request) -> Response:
    return RedirectResponse("/graphql")


async def _without_slash(request: Request) -> Response:
    """/graphql/ -> /graphql, method and query kept (307), the Location relative.

    Starlette's own slash redirect builds an absolute URL from the Host header,
    so any client could make the server redirect to a host it chose."""
    query = request.url.query
    return RedirectResponse("/graphql" + (f"?{query}" if query else ""), status_code=307)


def _is_api_path(path: str) -> bool:
    return path == "/graphql" or is_rest_path(path)


def _middleware(settings: Settings, metrics: Metrics, tracing: Tracing | None) -> list[Middleware]:
    # Outermost first: every request gets an id and a log line, refusals included.
    min_bytes = settings.serving.compression_min_bytes
    middleware = [
        Middleware(
            RequestObservation,
            observer=metrics,
            is_api_path=_is_api_path,
            compression=None if min_bytes is None else Compression(min_bytes=min_bytes),
        )
    ]
    if tracing is not None:
        from graphql_api.tracing.requests import RequestSpans

        middleware.append(Middleware(RequestSpans, tracing=tracing, is_api_path=_is_api_path))
    if settings.serving.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.serving.cors_origins),
                allow_methods=["GET", "POST", "PUT"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "x-request-id",
                    "idempotency-key",
                    "if-match",
                ],
                expose_headers=["x-request-id", "etag", "link", "location", "retry-after"],
                max_age=600,
            )
        )
    middleware.append(Middleware(HeaderLimit))
    limits = settings.limits
    middleware.append(
        Middleware(BodyLimit, max_bytes=limits.max_body_bytes, timeout_s=limits.body_timeout_s)
    )
    return middleware


def _route_without_head(path: str, endpoint: Any, *, methods: list[str]) -> Route:
    """Starlette adds HEAD to every GET route and lists it in 405s' Allow; GraphQL
    has no HEAD, so the route neither takes it nor offers it."""
    route = Route(path, endpoint, methods=methods)
    assert route.methods is not None
    route.methods.discard("HEAD")
    return route


def _tracing(settings: Settings, span_exporter: SpanExporter | None) -> Tracing | None:
    """Tracing when configured (or given an exporter); off, nothing of it is imported."""
    if not settings.tracing and span_exporter is None:
        return None
    from graphql_api.tracing.setup import Tracing

    return Tracing(exporter=span_exporter)


def create_app(settings: Settings, *, span_exporter: SpanExporter | None = None) -> Starlette:
    """The app; `span_exporter` (tests) turns tracing on with that exporter."""
    metrics = Metrics(multiprocess_dir=settings.serving.metrics_dir)
    tracing = _tracing(settings, span_exporter)
    observer: StoreObserver = metrics if tracing is None else tracing.observer(metrics)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if tracing is not None:
            tracing.start()
        app.state.resources = resources = await open_resources(
            settings,
            observer=observer,
            on_dynamodb_client=None if tracing is None else tracing.propagate_to,
        )
        metrics.watch_pools(app.state.resources.pool_usage)
        # What is alive now (modules, the schema, the pools) lives as long as the
        # process: move it out of the collector's reach. A request allocates
        # thousands of objects, so collections run every few requests, and each
        # full one walked this whole heap: a third of O2's CPU in `make bench`.
        gc.freeze()
        try:
            if resources.feed is None:
                log.info("no live feed: no store here keeps events in order (DynamoDB only)")
                yield
            else:
                hub = FeedHub(resources.feed, settings.feed, observer=metrics)
                async with running_hub(hub):
                    app.state.feed_hub = hub
                    yield
                app.state.feed_hub = None
        finally:
            # Uvicorn has let the in-flight requests finish before this runs.
            await app.state.resources.aclose()
            log.info("resources closed")
            if tracing is not None:
                tracing.shutdown()  # the spans still queued are sent

    graphiql = settings.directories.graphiql
    # One execution core for GraphQL and REST: one admission count, one schema.
    execution = Execution(
        settings, report_fast_path=metrics.fast_path_outcome, admission_observer=metrics
    )
    if tracing is not None:
        tracing.instrument(execution)
    app = Starlette(
        routes=[
            _route_without_head(
                "/graphql",
                with_graphiql(
                    GraphQLView(execution),
                    enabled=settings.graphiql,
                    directory=graphiql,
                ),
                methods=["GET", "POST"],
            ),
            WebSocketRoute("/graphql", LiveView(execution)),
            Route("/graphql/", _without_slash, methods=["GET", "POST"]),
            *graphiql_routes(enabled=settings.graphiql, directory=graphiql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/", _home),
            *rest_routes(execution),
        ],
        middleware=_middleware(settings, metrics, tracing),
        exception_handlers={404: no_such_route, 405: no_such_route},
        lifespan=lifespan,
    )
    # No redirect built from the client's Host header (see _without_slash).
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.metrics = metrics
    # The live feed's hub while the app serves and the stores keep a feed.
    app.state.feed_hub = None
    return app


def create_app_from_env() -> Starlette:
    """For `uvicorn --factory` and worker processes: settings from the environment."""
    return create_app(load_settings(os.environ))

"""AWS Lambda entry points, where the replaced function ran.

- `handler`: the API behind API Gateway (an HTTP API, payload format 2.0, or a
  REST API), through Mangum: GraphQL and the old REST routes, the same app as
  `graphql-api serve`.
- `drain`: the outbox drain (`graphql-api outbox drain`), for a schedule.

A Lambda environment is frozen between invocations, so nothing may run in the
background there: the outbox relay is off in `handler` whatever the settings
say, and a scheduled `drain` delivers the changes instead.

The app's lifespan (the MySQL pools, the DynamoDB client) runs once per
execution environment, on the first event, on one event loop kept for the
environment's life. Mangum's own lifespan support runs it around every event:
a new pool, and a new connection to MySQL, for each request. Nothing is opened
at import time, so importing this module (the runtime's init) costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from mangum import Mangum
from starlette.applications import Starlette

from graphql_api.app import create_app
from graphql_api.errors import ConfigError
from graphql_api.resources import dynamodb_client, mysql_pool
from graphql_api.settings import Settings, load_settings
from graphql_api.sync.outbox import OutboxRelay

log = logging.getLogger("graphql_api.aws_lambda")


class ApiHandler:
    """The Lambda handler of the API; the app and its resources made on the first event."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        # None: the function's environment variables, read on the first event.
        self._env = env
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lifespan: AbstractAsyncContextManager[Any] | None = None
        self._adapter: Mangum | None = None
        self._app: Starlette | None = None

    @property
    def app(self) -> Starlette | None:
        """The app serving the events, once the first has come."""
        return self._app

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        adapter = self._adapter or self._start()
        assert self._loop is not None
        # Mangum runs the event on the current loop: this environment's.
        asyncio.set_event_loop(self._loop)
        return adapter(event, context)

    def _start(self) -> Mangum:
        settings = load_settings(os.environ if self._env is None else self._env)
        # Frozen between events, a background relay would stall mid-batch.
        app = self._app = create_app(replace(settings, outbox_relay=False))
        self._loop = asyncio.new_event_loop()
        # Before Mangum, which makes a loop of its own when none is set.
        asyncio.set_event_loop(self._loop)
        lifespan = self._lifespan = app.router.lifespan_context(app)
        self._loop.run_until_complete(lifespan.__aenter__())
        self._adapter = Mangum(app, lifespan="off")
        log.info("the API is ready for Lambda events")
        return self._adapter

    def close(self) -> None:
        """Closes the app's resources (the tests; Lambda just ends the environment)."""
        if self._loop is None or self._lifespan is None:
            return
        self._loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self._loop.close()
        asyncio.set_event_loop(None)
        self._loop = self._lifespan = self._adapter = self._app = None


class OutboxDrain:
    """The scheduled Lambda handler: every pending change copied to DynamoDB, then done."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = env

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, int]:
        env = dict(os.environ if self._env is None else self._env)
        # Both stores are needed whatever order the API reads them in.
        env.setdefault("GRAPHQL_API_STORES", "mysql,dynamodb")
        settings = load_settings(env)
        if settings.mysql is None or settings.dynamodb is None:
            raise ConfigError("DYNAMODB_TABLE", "the outbox drain needs MySQL and DynamoDB")
        delivered, left = asyncio.run(_drain(settings))
        log.info("outbox drain: delivered %d changes; %d left", delivered, left)
        return {"delivered": delivered, "left": left}


async def _drain(settings: Settings) -> tuple[int, int]:
    assert settings.mysql is not None
    assert settings.dynamodb is not None
    async with (
        mysql_pool(settings.mysql) as pool,
        dynamodb_client(settings.dynamodb) as client,
    ):
        relay = OutboxRelay(pool=pool, client=client, table=settings.dynamodb.table)
        delivered = await relay.drain()
        backlog = await relay.backlog()
    return delivered, backlog.rows


handler = ApiHandler()
drain = OutboxDrain()

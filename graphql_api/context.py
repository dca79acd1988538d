"""The per-request context every resolver receives, and its typed Info alias."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from graphql_api.feed.hub import FeedHub
from graphql_api.feed.subscription import FeedAccess
from graphql_api.loaders import Loaders
from graphql_api.principal import AUTH_OFF, Principal
from graphql_api.settings import Settings
from graphql_api.stores.protocol import StoreWriter
from graphql_api.stores.usage import StoreUsage


@dataclass(slots=True)
class Context:
    loaders: Loaders
    # Mutations go to the writer only; reads go through the loaders.
    writer: StoreWriter
    settings: Settings
    request_id: str
    # Who acts, for the audit trail; None while authentication is off.
    actor: str | None = None
    # Which stores served this request; the store chain fills it, `extensions` report it.
    store_usage: StoreUsage = field(default_factory=StoreUsage)
    # What the caller may do; checked before any resolver runs (schema/access.py).
    principal: Principal = AUTH_OFF
    # The operations that ran and the error codes sent: schema/observation.py notes
    # them here, the HTTP layer's access log and metrics read them.
    operations: list[str] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)
    # Mutation outcomes (a result or the exception) by response key, left by the
    # fast path when it hands a request on after writing: schema/mutations.py
    # answers with them instead of writing again.
    settled_mutations: dict[str, object] = field(default_factory=dict)
    # The process's live feed (the events query reads up to its position); None
    # when no store keeps events in order (DynamoDB only).
    feed_hub: FeedHub | None = None
    # A websocket connection's subscriptions (web/live.py); None over HTTP.
    live: FeedAccess | None = None


Info = strawberry.Info[Context, None]

"""The app under test, over HTTP, with what a test needs to know about its store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devstack.app_server import GraphQLClient
from devstack.mariadb import MariaDBServer


@dataclass
class Api:
    """The app over HTTP, and what the test needs to know about its store."""

    client: GraphQLClient
    store: str
    source: str
    mariadb: MariaDBServer | None = None

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.post(query, variables)

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.data(query, variables)

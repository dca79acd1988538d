"""Which stores served one request: filled by the fallback chain, reported in `extensions`."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql_api.stores.records import DataSource


@dataclass(slots=True)
class StoreUsage:
    """One request's record. Created per request, so nothing outlives it."""

    used: list[DataSource] = field(default_factory=list)
    # Some part came from a fallback store, or no store could answer it.
    degraded: bool = False

    def served(self, source: DataSource, *, by_fallback: bool) -> None:
        if source not in self.used:
            self.used.append(source)
        self.degraded = self.degraded or by_fallback

    def unanswered(self) -> None:
        self.degraded = True

    def used_names(self) -> list[str]:
        """The `source` names, as the response's extensions and the access log show them."""
        return [source.value for source in self.used]

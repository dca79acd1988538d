"""The feed's reads in MySQL (protocol.EventFeedReader), one statement each.

Each row carries the customer's rep as of its event (stores/event_feed.py
states the rule) as a column: a rep-setting event's own `to`, else the newest
rep-setting event before it, else the `from` of the first one after it, else
the customer's rep now. Each is a lookup in the (customer_id, event_id)
index; a NULL rep travels as '=' so that "no such event" (NULL) stays apart.
SQL is built only from constants and `%s` placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql_api.stores.event_feed import page_from, scan_end
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.mysql_tables import EVENTS, Row
from graphql_api.stores.records import (
    REP_SETTING_EVENT_KINDS,
    DataSource,
    EventFilter,
    FeedEvent,
    FeedPage,
)

_KINDS = "(" + ", ".join(sorted(f"'{kind.value}'" for kind in REP_SETTING_EVENT_KINDS)) + ")"
_REP_AS_OF = (
    f"CASE WHEN e.kind IN {_KINDS} THEN CONCAT('=', COALESCE(e.to_sales_rep_id, ''))"
    " ELSE COALESCE("
    "(SELECT CONCAT('=', COALESCE(m.to_sales_rep_id, '')) FROM customer_events m"
    f" WHERE m.customer_id = e.customer_id AND m.event_id < e.event_id AND m.kind IN {_KINDS}"
    " ORDER BY m.event_id DESC LIMIT 1),"
    "(SELECT CONCAT('=', COALESCE(m.from_sales_rep_id, '')) FROM customer_events m"
    f" WHERE m.customer_id = e.customer_id AND m.event_id > e.event_id AND m.kind IN {_KINDS}"
    " ORDER BY m.event_id LIMIT 1),"
    "(SELECT CONCAT('=', COALESCE(c.assigned_sales_rep_id, '')) FROM customers c"
    " WHERE c.customer_id = e.customer_id)) END"
)
_COLUMNS = f"{EVENTS.columns_as('e')}, {_REP_AS_OF} AS rep_as_of"
_REP_AT = len(EVENTS.columns)


def _feed_event(row: Row) -> FeedEvent:
    rep = row[_REP_AT]
    # Ids are never empty: '=' alone is no rep.
    return FeedEvent(event=EVENTS.from_row(row), sales_rep_id=(rep[1:] or None) if rep else None)


class MySQLEventFeed:
    """The feed over the MySQL store's pool, its fair turns and time limit."""

    def __init__(self, store: MySQLStore) -> None:
        self._store = store

    @property
    def source(self) -> DataSource:
        return DataSource.MYSQL

    async def _rows(self, sql: str, params: Sequence[object]) -> list[Row]:
        async with self._store.connection() as connection, connection.cursor() as cursor:
            await cursor.execute(sql, params)
            return list(await cursor.fetchall())

    async def newest_event_id(self) -> int:
        rows = await self._rows("SELECT COALESCE(MAX(event_id), 0) FROM customer_events", [])
        return int(rows[0][0])

    async def events_after(self, *, after: int, limit: int) -> list[FeedEvent]:
        sql = (
            f"SELECT {_COLUMNS} FROM customer_events e"
            " WHERE e.event_id > %s ORDER BY e.event_id LIMIT %s"
        )
        return [_feed_event(row) for row in await self._rows(sql, [after, limit])]

    async def feed_page(
        self, *, where: EventFilter, after: int, until: int, first: int
    ) -> FeedPage:
        end = scan_end(where, after=after, until=until)
        conditions = ["e.event_id > %s", "e.event_id <= %s"]
        params: list[object] = [after, end]
        if where.customer_id is not None:
            # The customer's history index: (customer_id, event_id).
            conditions.insert(0, "e.customer_id = %s")
            params.insert(0, where.customer_id)
        sql = f"SELECT {_COLUMNS} FROM customer_events e WHERE {' AND '.join(conditions)}"
        if where.sales_rep_id is not None:
            rep = where.sales_rep_id
            sql = (
                f"SELECT * FROM ({sql}) AS scanned WHERE scanned.from_sales_rep_id = %s"
                " OR scanned.to_sales_rep_id = %s OR scanned.rep_as_of = %s"
            )
            params += [rep, rep, f"={rep}"]
        sql += " ORDER BY event_id LIMIT %s"
        params.append(first + 1)
        matching = [_feed_event(row) for row in await self._rows(sql, params)]
        return page_from(matching, after=after, first=first, end=end, until=until)

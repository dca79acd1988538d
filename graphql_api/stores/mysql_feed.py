"""The feed's reads in MySQL (protocol.EventFeedReader), one statement each.

Each row carries the customer's rep as of its event (stores/event_feed.py
states the rule) as a column, worked out per customer rather than per event,
so a customer with a long history costs one pass over it, not one per event:
- a rep-setting event's own `to`;
- else the newest rep-setting event before it among the rows read (a window
  over them);
- else the newest one before those rows, else the `from` of the customer's
  first one (after it, necessarily), both from one grouped pass over the
  rep-setting events of the customers read (`moves`);
- else the customer's rep now.
Values travel as `<20-digit id>=<rep>` so that MAX/MIN pick by id and a NULL
rep (`=`) stays apart from "no such event" (NULL). SQL is built only from
constants and `%s` placeholders.
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


def _tagged(alias: str, rep_column: str) -> str:
    """`<id, 20 digits>=<rep>` of a row, comparable by id."""
    return f"CONCAT(LPAD({alias}.event_id, 20, '0'), '=', COALESCE({alias}.{rep_column}, ''))"


# The rows read are the CTE `scanned` (the event columns); it takes `%s` for
# "the position they start after" once, in `moves`.
_MOVES = (
    "moves AS (SELECT m.customer_id,"
    f" MAX(CASE WHEN m.event_id <= %s THEN {_tagged('m', 'to_sales_rep_id')} END) AS before_scan,"
    f" MIN({_tagged('m', 'from_sales_rep_id')}) AS first_move"
    f" FROM customer_events m WHERE m.kind IN {_KINDS}"
    " AND m.customer_id IN (SELECT customer_id FROM scanned) GROUP BY m.customer_id)"
)
_REP_AS_OF = (
    f"CASE WHEN s.kind IN {_KINDS} THEN CONCAT('=', COALESCE(s.to_sales_rep_id, ''))"
    " ELSE COALESCE("
    f"SUBSTRING(MAX(CASE WHEN s.kind IN {_KINDS} THEN {_tagged('s', 'to_sales_rep_id')} END)"
    " OVER (PARTITION BY s.customer_id ORDER BY s.event_id ROWS UNBOUNDED PRECEDING), 21),"
    " SUBSTRING(mv.before_scan, 21), SUBSTRING(mv.first_move, 21),"
    " CONCAT('=', COALESCE(c.assigned_sales_rep_id, ''))) END"
)
_WITH_REPS = (
    f"SELECT {EVENTS.columns_as('s')}, {_REP_AS_OF} AS rep_as_of FROM scanned s"
    " LEFT JOIN moves mv ON mv.customer_id = s.customer_id"
    " LEFT JOIN customers c ON c.customer_id = s.customer_id"
)
_REP_AT = len(EVENTS.columns)


def _with_reps(scanned: str) -> str:
    """The rows `scanned` selects (its params, then the position they start
    after), each with the customer's rep as of it."""
    return f"WITH scanned AS ({scanned}), {_MOVES} {_WITH_REPS}"


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
        scanned = (
            f"SELECT {EVENTS.column_list} FROM customer_events"
            " WHERE event_id > %s ORDER BY event_id LIMIT %s"
        )
        sql = _with_reps(scanned) + " ORDER BY s.event_id"
        return [_feed_event(row) for row in await self._rows(sql, [after, limit, after])]

    async def feed_page(
        self, *, where: EventFilter, after: int, until: int, first: int
    ) -> FeedPage:
        end = scan_end(where, after=after, until=until)
        conditions = "event_id > %s AND event_id <= %s"
        params: list[object] = [after, end]
        if where.customer_id is not None:
            # The customer's history index: (customer_id, event_id).
            conditions = "customer_id = %s AND " + conditions
            params.insert(0, where.customer_id)
        scanned = f"SELECT {EVENTS.column_list} FROM customer_events WHERE {conditions}"
        if where.sales_rep_id is None:
            # Every row read is on the page, up to one more than it holds.
            scanned += " ORDER BY event_id LIMIT %s"
            params.append(first + 1)
        params.append(after)
        sql = f"SELECT * FROM ({_with_reps(scanned)}) AS feed"
        if where.sales_rep_id is not None:
            rep = where.sales_rep_id
            sql += " WHERE from_sales_rep_id = %s OR to_sales_rep_id = %s OR rep_as_of = %s"
            params += [rep, rep, f"={rep}"]
        sql += " ORDER BY event_id LIMIT %s"
        params.append(first + 1)
        matching = [_feed_event(row) for row in await self._rows(sql, params)]
        return page_from(matching, after=after, first=first, end=end, until=until)

"""The MySQL store (asyncmy): MySQL 8 and MariaDB 10.6+.

Every read is one statement, whatever the number of keys; paginated children
of many parents come from one statement (an index range per parent, or a
window function over them). Every write is
one transaction that also records its customer_events row. SQL is built only
from constants and `%s` placeholders.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar

from asyncmy import errors as driver_errors
from asyncmy.connection import Connection
from asyncmy.cursors import Cursor
from asyncmy.pool import Pool

from graphql_api.errors import (
    AlreadyExistsError,
    NotFoundError,
    OverloadedError,
    StoreFailedError,
)
from graphql_api.stores import changes
from graphql_api.stores.fair_gate import FairGate
from graphql_api.stores.mysql_tables import (
    CUSTOMERS,
    EVENT_CORE,
    EVENT_CORE_COLUMNS,
    EVENTS,
    SALES_REPS,
    Row,
    column_value,
    naive_utc,
    placeholders,
)
from graphql_api.stores.records import (
    Assignment,
    CustomerChange,
    CustomerEventRecord,
    CustomerFilter,
    CustomerRecord,
    CustomersAndReps,
    CustomerStatus,
    DataSource,
    NewCustomer,
    Page,
    PageRequest,
    RepCustomersKey,
    SalesRepMove,
    SalesRepRecord,
)

_RecordT = TypeVar("_RecordT")
_DUPLICATE_KEY = 1062
_FOREIGN_KEY_MISSING = 1452
# Server errors that mean "this store cannot answer now", not "this request is
# wrong": too many connections, access denied, unknown database (not created
# yet, or a wrong RDS_DATABASE: no request can fix it, like a wrong password),
# shutting down, network errors, lock wait timeout, read-only during a
# failover, connection killed.
_UNAVAILABLE_SERVER_ERRORS = frozenset(
    {1040, 1045, 1049, 1053, 1152, 1153, 1158, 1159, 1160, 1161, 1205, 1290, 1927}
)


def _is_outage(error: Exception) -> bool:
    """Client-side errors (CR_*, 2000-2999) are lost or refused connections."""
    if isinstance(error, driver_errors.InterfaceError):
        return True
    code = error.args[0] if error.args and isinstance(error.args[0], int) else None
    return code is not None and (2000 <= code < 3000 or code in _UNAVAILABLE_SERVER_ERRORS)


_REP_COLUMNS = SALES_REPS.column_list
_CUSTOMER_COLUMNS = CUSTOMERS.column_list
_EVENT_COLUMNS = EVENTS.column_list
# Django's select_related: the rep comes in the customer's row.
_CUSTOMERS_AND_REPS = (
    f"SELECT {CUSTOMERS.columns_as('c')}, {SALES_REPS.columns_as('r')} FROM customers c"
    " LEFT JOIN sales_reps r ON r.sales_rep_id = c.assigned_sales_rep_id"
)
_EVENT_CORE_COLUMNS = ", ".join(EVENT_CORE_COLUMNS)
# The event's id is the AUTO_INCREMENT one: every column but the first.
_INSERT_EVENT = (
    f"INSERT INTO customer_events ({', '.join(EVENTS.columns[1:])})"
    f" VALUES ({placeholders(len(EVENTS.columns) - 1)})"
)
# Ids are never empty, so every id sorts after this: "no cursor" is "after ''".
_BEFORE_ALL_IDS = ""


def _filter_sql(where: CustomerFilter) -> tuple[str, list[object]]:
    conditions: list[str] = []
    params: list[object] = []
    exact = (
        ("status", where.status.value if where.status else None),
        ("assigned_sales_rep_id", where.sales_rep_id),
        ("country", where.country),
        ("state", where.state),
        ("city", where.city),
    )
    for column, value in exact:
        if value is not None:
            conditions.append(f"{column} = %s")
            params.append(value)
    if where.unassigned is not None:
        null_test = "IS NULL" if where.unassigned else "IS NOT NULL"
        conditions.append(f"assigned_sales_rep_id {null_test}")
    if where.name_contains is not None:
        escaped = where.name_contains.lower().replace("\\", "\\\\")
        escaped = escaped.replace("%", "\\%").replace("_", "\\_")
        conditions.append("LOWER(name) LIKE %s")
        params.append(f"%{escaped}%")
    return (" AND ".join(conditions) or "TRUE"), params


def _split_page(rows: list[Row], first: int) -> tuple[list[Row], bool]:
    """Rows were fetched with one extra, which tells whether a next page exists."""
    return rows[:first], len(rows) > first


@functools.cache
def _rep_page_branch(leading: int, by_status: bool) -> str:
    """One rep's part of MySQLStore._rep_pages's statement, for each projection
    and filter (at most 2 x 15), built once instead of each request."""
    status_sql = " AND status = %s" if by_status else ""
    return (
        f"(SELECT {', '.join(CUSTOMERS.columns[:leading])},"
        " assigned_sales_rep_id AS page_rep,"
        " (SELECT COUNT(*) FROM customers"
        f"  WHERE assigned_sales_rep_id = %s{status_sql}) AS total_count"
        f" FROM customers WHERE assigned_sales_rep_id = %s{status_sql}"
        " AND customer_id > %s ORDER BY customer_id LIMIT %s)"
    )


class MySQLStore:
    def __init__(
        self,
        pool: Pool,
        *,
        timeout_s: float,
        pool_wait_s: float,
        name: str = "mysql",
        outbox: bool = False,
    ) -> None:
        self._pool = pool
        self._timeout_s = timeout_s
        self._pool_wait_s = pool_wait_s
        self._gate = FairGate(pool.maxsize)
        self._name = name
        # With a fallback store to keep fresh, every change also leaves an outbox row.
        self._outbox = outbox

    @property
    def source(self) -> DataSource:
        return DataSource.MYSQL

    def connection(self) -> AbstractAsyncContextManager[Connection]:
        """A pooled connection for another table's statements (idempotency keys),
        with this store's fair turns, time limit and failure categories."""
        return self._connection()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A pooled connection, taken in fair turns; the whole operation is bounded."""
        async with self._bounded():
            await self._take_turn()
            try:
                # Never waits for another request: the gate lets through only as
                # many as the pool has connections (it may connect one).
                async with self._pool.acquire() as connection:
                    yield connection
            finally:
                self._gate.release()

    async def _take_turn(self) -> None:
        """A turn at the pool, in fair rotation with other callers.

        The wait for a turn is bounded apart (pool_wait_s) and its end is
        overload, not a failure of the store: a breaker that opened because this
        process had more requests than connections would turn a busy minute
        into an outage for everyone. A free turn is taken without a timer."""
        if self._gate.try_acquire():
            return
        try:
            async with asyncio.timeout(self._pool_wait_s):
                await self._gate.acquire()
        except TimeoutError:
            raise OverloadedError(f"no {self._name} connection free") from None

    @asynccontextmanager
    async def _bounded(self) -> AsyncIterator[None]:
        """The store's time limit, and its errors as StoreFailedError."""
        try:
            async with asyncio.timeout(self._timeout_s):
                yield
        except TimeoutError:
            raise StoreFailedError(self._name, "timeout") from None
        except OSError:
            raise StoreFailedError(self._name, "connection") from None
        except driver_errors.Error as error:
            if _is_outage(error):
                raise StoreFailedError(self._name, "connection") from None
            raise

    async def _fetch(self, sql: str, params: Sequence[object]) -> list[Row]:
        # Every read comes here: _connection's steps written out, one context
        # manager fewer (a generator's each).
        async with self._bounded():
            await self._take_turn()
            try:
                async with self._pool.acquire() as connection, connection.cursor() as cursor:
                    await cursor.execute(sql, params)
                    return list(await cursor.fetchall())
            finally:
                self._gate.release()

    async def ping(self) -> None:
        await self._fetch("SELECT 1", [])

    # -- reads ---------------------------------------------------------------

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        sql = (
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers"
            f" WHERE customer_id IN ({placeholders(len(ids))})"
        )
        return {row[0]: CUSTOMERS.from_row(row) for row in await self._fetch(sql, ids)}

    async def sales_reps_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, SalesRepRecord]:
        sql = (
            f"SELECT {_REP_COLUMNS} FROM sales_reps"
            f" WHERE sales_rep_id IN ({placeholders(len(ids))})"
        )
        return {row[0]: SALES_REPS.from_row(row) for row in await self._fetch(sql, ids)}

    async def customers_and_reps_by_ids(self, *, ids: Sequence[str]) -> CustomersAndReps:
        sql = f"{_CUSTOMERS_AND_REPS} WHERE c.customer_id IN ({placeholders(len(ids))})"
        rep_at = len(CUSTOMERS.columns)
        customers: dict[str, CustomerRecord] = {}
        reps: dict[str, SalesRepRecord] = {}
        for row in await self._fetch(sql, ids):
            customers[row[0]] = CUSTOMERS.from_row(row)
            if row[rep_at] is not None:
                reps[row[rep_at]] = SALES_REPS.from_row(row[rep_at:])
        return CustomersAndReps(customers=customers, sales_reps=reps)

    async def customers_by_sales_reps(
        self, *, keys: Sequence[RepCustomersKey]
    ) -> list[Page[CustomerRecord]]:
        # Parents of one GraphQL level share their arguments, so this is one
        # statement per level; different aliases with other arguments add one each.
        pages: dict[RepCustomersKey, Page[CustomerRecord]] = {}
        groups: dict[
            tuple[PageRequest, CustomerStatus | None, frozenset[str] | None], list[str]
        ] = {}
        for key in keys:
            groups.setdefault((key.page, key.status, key.fields), []).append(key.sales_rep_id)
        for (page, status, fields), rep_ids in groups.items():
            unique_ids = sorted(set(rep_ids))
            found = await self._rep_pages(
                rep_ids=unique_ids, page=page, status=status, fields=fields
            )
            for rep_id in unique_ids:
                pages[RepCustomersKey(rep_id, page, status, fields)] = found.get(
                    rep_id,
                    Page(
                        items=[],
                        has_next_page=False,
                        total_count=0,
                        has_previous_page=page.after is not None,
                    ),
                )
        return [pages[key] for key in keys]

    async def _rep_pages(
        self,
        *,
        rep_ids: list[str],
        page: PageRequest,
        status: CustomerStatus | None,
        fields: frozenset[str] | None,
    ) -> dict[str, Page[CustomerRecord]]:
        # One branch per rep: a range of the (rep, customer) index that stops after
        # first + 1 rows, and the rep's count from the same index. A window over
        # every customer of the reps (ROW_NUMBER, COUNT OVER) reads and sorts whole
        # lists to keep a page of each: three times MariaDB's work for a page of
        # a hundred out of a hundred and ten.
        # Only the leading columns that hold `fields`: a page of names and contact
        # details decodes 10 columns a row, not 15 with two times among them.
        status_sql = " AND status = %s" if status else ""
        status_params: list[object] = [status.value] if status else []
        leading = CUSTOMERS.leading_columns(fields)
        from_row = CUSTOMERS.leading_reader(leading)
        after = page.after or _BEFORE_ALL_IDS
        params: list[object] = []
        for rep_id in rep_ids:
            params += [rep_id, *status_params, rep_id, *status_params, after, page.first + 1]
        branch = _rep_page_branch(leading, bool(status))
        sql = " UNION ALL ".join([branch] * len(rep_ids)) + " ORDER BY page_rep, customer_id"
        rows_by_rep: dict[str, list[Row]] = {}
        for row in await self._fetch(sql, params):
            rows_by_rep.setdefault(row[leading], []).append(row)
        result = {}
        for rep_id, rows in rows_by_rep.items():
            kept, has_next = _split_page(rows, page.first)
            result[rep_id] = Page(
                items=[from_row(row) for row in kept],
                has_next_page=has_next,
                total_count=int(rows[0][-1]),
                has_previous_page=page.after is not None,
            )
        # A cursor past a rep's last customer leaves no row to carry the count.
        if page.after is not None and len(result) < len(rep_ids):
            counted = [rep_id for rep_id in rep_ids if rep_id not in result]
            for rep_id, total in await self._rep_counts(counted, status_sql, status_params):
                result[rep_id] = Page(
                    items=[], has_next_page=False, total_count=int(total), has_previous_page=True
                )
        return result

    async def _rep_counts(
        self, rep_ids: list[str], status_sql: str, status_params: list[object]
    ) -> list[Row]:
        return await self._fetch(
            "SELECT assigned_sales_rep_id, COUNT(*) FROM customers"
            f" WHERE assigned_sales_rep_id IN ({placeholders(len(rep_ids))}){status_sql}"
            " GROUP BY assigned_sales_rep_id",
            [*rep_ids, *status_params],
        )

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int, details: bool = True
    ) -> Mapping[str, list[CustomerEventRecord]]:
        # Without details, the columns of what and when: a history page of
        # `kind` and `at` (a front end's timeline) decodes 4 columns, not 10.
        columns, from_row = (
            (_EVENT_COLUMNS, EVENTS.from_row) if details else (_EVENT_CORE_COLUMNS, EVENT_CORE)
        )
        sql = (
            f"SELECT {columns} FROM ("
            f" SELECT {columns}, ROW_NUMBER() OVER"
            "  (PARTITION BY customer_id ORDER BY event_id DESC) AS position"
            f" FROM customer_events WHERE customer_id IN ({placeholders(len(customer_ids))})"
            ") AS newest WHERE position <= %s ORDER BY customer_id, event_id DESC"
        )
        events: dict[str, list[CustomerEventRecord]] = {}
        for row in await self._fetch(sql, [*customer_ids, first]):
            events.setdefault(row[1], []).append(from_row(row))
        return events

    async def customers_page(
        self, *, where: CustomerFilter, page: PageRequest
    ) -> Page[CustomerRecord]:
        conditions, params = _filter_sql(where)
        sql = (
            f"SELECT {_CUSTOMER_COLUMNS}, total_count FROM ("
            f" SELECT {_CUSTOMER_COLUMNS}, COUNT(*) OVER () AS total_count"
            f" FROM customers WHERE {conditions}"
            ") AS matching WHERE customer_id > %s ORDER BY customer_id LIMIT %s"
        )
        rows = await self._fetch(sql, [*params, page.after or _BEFORE_ALL_IDS, page.first + 1])
        return await self._counted_page(
            rows, page, CUSTOMERS.from_row, count_sql=(conditions, params)
        )

    async def sales_reps_page(self, *, page: PageRequest) -> Page[SalesRepRecord]:
        sql = (
            f"SELECT {_REP_COLUMNS}, total_count FROM ("
            f" SELECT {_REP_COLUMNS}, COUNT(*) OVER () AS total_count FROM sales_reps"
            ") AS everyone WHERE sales_rep_id > %s ORDER BY sales_rep_id LIMIT %s"
        )
        rows = await self._fetch(sql, [page.after or _BEFORE_ALL_IDS, page.first + 1])
        return await self._counted_page(rows, page, SALES_REPS.from_row, count_sql=None)

    async def _counted_page(
        self,
        rows: list[Row],
        page: PageRequest,
        to_record: Callable[[Row], _RecordT],
        *,
        count_sql: tuple[str, list[object]] | None,
    ) -> Page[_RecordT]:
        kept, has_next = _split_page(rows, page.first)
        if rows:
            total = int(rows[0][-1])
        else:
            # A cursor past the last item leaves no row to carry the count.
            total = await self._count(count_sql)
        return Page(
            items=[to_record(row) for row in kept],
            has_next_page=has_next,
            total_count=total,
            has_previous_page=page.after is not None,
        )

    async def _count(self, count_sql: tuple[str, list[object]] | None) -> int:
        if count_sql is None:
            rows = await self._fetch("SELECT COUNT(*) FROM sales_reps", [])
        else:
            conditions, params = count_sql
            rows = await self._fetch(f"SELECT COUNT(*) FROM customers WHERE {conditions}", params)
        return int(rows[0][0])

    # -- writes --------------------------------------------------------------

    async def assign_customer(self, *, change: CustomerChange, sales_rep_id: str) -> Assignment:
        locked: list[SalesRepRecord] = []

        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            rep = changes.check_assignable(
                await self._rep_for_share(cursor, sales_rep_id), sales_rep_id
            )
            locked.append(rep)
            return changes.plan_assign(customer, rep)

        customer = await self._change_customer(change, plan)
        return Assignment(customer=customer, sales_rep=locked[0])

    async def unassign_customer(self, *, change: CustomerChange) -> CustomerRecord:
        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            return changes.plan_unassign(customer)

        return await self._change_customer(change, plan)

    async def update_customer_status(
        self,
        *,
        change: CustomerChange,
        status: CustomerStatus,
        sales_rep: SalesRepMove | None = None,
    ) -> CustomerRecord:
        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            moved = None
            if sales_rep is not None:
                rep_id = sales_rep.sales_rep_id
                rep = None
                if rep_id is not None:
                    found = await self._rep_for_share(cursor, rep_id)
                    rep = changes.check_assignable(found, rep_id)
                moved = changes.plan_move(customer, rep)
            return changes.combined(changes.plan_status(customer, status), moved)

        return await self._change_customer(change, plan)

    async def update_customer(self, *, change: CustomerChange) -> CustomerRecord:
        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            return changes.plan_update(customer, change.fields)

        return await self._change_customer(change, plan)

    async def create_customer(self, *, customer: NewCustomer, actor: str | None) -> CustomerRecord:
        record = changes.new_record(customer, at=datetime.now(UTC), source=DataSource.MYSQL)
        async with self._transaction() as cursor:
            if customer.sales_rep_id is not None:
                rep = await self._rep_for_share(cursor, customer.sales_rep_id)
                changes.check_assignable(rep, customer.sales_rep_id)
            try:
                await cursor.execute(
                    f"INSERT INTO customers ({_CUSTOMER_COLUMNS})"
                    f" VALUES ({placeholders(len(CUSTOMERS.columns))})",
                    CUSTOMERS.to_row(record),
                )
            except driver_errors.IntegrityError as error:
                if error.args and error.args[0] == _DUPLICATE_KEY:
                    raise AlreadyExistsError("customer", customer.id) from None
                raise
            event = changes.created_event(customer, actor=actor, event_id=0, at=record.created_at)
            await self._insert_event(cursor, event)
            await self._insert_outbox(cursor, customer.id, version=1, at=record.created_at)
        return record

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Cursor]:
        """Commit when the block ends normally; otherwise nothing is kept.

        A connection left inside a transaction is discarded by the pool on
        release, so a failed rollback cannot leak a half-done change.
        """
        async with self._connection() as connection, connection.cursor() as cursor:
            await connection.begin()
            try:
                yield cursor
            except BaseException:
                await self._rollback_quietly(connection)
                raise
            await connection.commit()

    @staticmethod
    async def _rollback_quietly(connection: Connection) -> None:
        try:
            await connection.rollback()
        except (driver_errors.Error, OSError):
            # The connection is gone; the server drops its transaction with it.
            connection.close()

    async def _change_customer(
        self,
        change: CustomerChange,
        plan_for: Callable[[Cursor, CustomerRecord], Awaitable[changes.PlannedChange | None]],
    ) -> CustomerRecord:
        at = datetime.now(UTC)
        async with self._transaction() as cursor:
            await cursor.execute(
                f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE customer_id = %s FOR UPDATE",
                [change.customer_id],
            )
            row = await cursor.fetchone()
            customer = changes.check_found(row and CUSTOMERS.from_row(row), change.customer_id)
            changes.check_version(customer, change.expected_version)
            plan = await plan_for(cursor, customer)
            if plan is None:
                return customer
            assignments = [f"{CUSTOMERS.column_of(name)} = %s" for name in plan.fields]
            values = [column_value(value) for value in plan.fields.values()]
            await cursor.execute(
                f"UPDATE customers SET {', '.join(assignments)},"
                " version = version + 1, updated_at = %s WHERE customer_id = %s",
                [*values, naive_utc(at), change.customer_id],
            )
            for event in changes.events_for(plan, change, first_event_id=0, at=at):
                await self._insert_event(cursor, event)
                # One outbox row per event: the relay copies the event each names.
                await self._insert_outbox(cursor, customer.id, version=customer.version + 1, at=at)
        return changes.apply_change(customer, plan, at=at)

    async def _insert_outbox(
        self, cursor: Cursor, customer_id: str, *, version: int, at: datetime
    ) -> None:
        if not self._outbox:
            return
        # LAST_INSERT_ID() is the event row this transaction has just written.
        await cursor.execute(
            "INSERT INTO outbox (customer_id, customer_version, event_id, created_at)"
            " VALUES (%s, %s, LAST_INSERT_ID(), %s)",
            [customer_id, version, naive_utc(at)],
        )

    @staticmethod
    async def _rep_for_share(cursor: Cursor, sales_rep_id: str) -> SalesRepRecord | None:
        # The shared lock keeps the rep from being deactivated until we commit.
        await cursor.execute(
            f"SELECT {_REP_COLUMNS} FROM sales_reps WHERE sales_rep_id = %s LOCK IN SHARE MODE",
            [sales_rep_id],
        )
        row = await cursor.fetchone()
        return None if row is None else SALES_REPS.from_row(row)

    @staticmethod
    async def _insert_event(cursor: Cursor, event: CustomerEventRecord) -> None:
        try:
            await cursor.execute(_INSERT_EVENT, EVENTS.to_row(event)[1:])
        except driver_errors.IntegrityError as error:
            if error.args and error.args[0] == _FOREIGN_KEY_MISSING:
                raise NotFoundError("customer", event.customer_id, field="customerId") from None
            raise

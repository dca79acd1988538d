"""The MySQL store (asyncmy): MySQL 8 and MariaDB 10.6+.

Every read is one statement, whatever the number of keys; paginated children
of many parents come from one statement with window functions. Every write is
one transaction that also records its customer_events row. SQL is built only
from constants and `%s` placeholders.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from asyncmy import errors as driver_errors
from asyncmy.connection import Connection
from asyncmy.cursors import Cursor
from asyncmy.pool import Pool

from graphql_api.errors import AlreadyExistsError, NotFoundError, StoreFailedError
from graphql_api.stores import changes
from graphql_api.stores.records import (
    CustomerChange,
    CustomerEventKind,
    CustomerEventRecord,
    CustomerFilter,
    CustomerRecord,
    CustomerStatus,
    DataSource,
    NewCustomer,
    Page,
    PageRequest,
    RepCustomersKey,
    SalesRepRecord,
)

Row = tuple[Any, ...]
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


_REP_COLUMNS = (
    "sales_rep_id, first_name, last_name, email, phone, region, active, created_at, updated_at"
)
_CUSTOMER_COLUMNS = (
    "customer_id, name, contact_person, email, phone, address, city, state, zip_code, country,"
    " status, assigned_sales_rep_id, version, created_at, updated_at"
)
_EVENT_COLUMNS = (
    "event_id, customer_id, kind, occurred_at, actor, from_sales_rep_id, to_sales_rep_id,"
    " from_status, to_status, note"
)
# Record field name -> column, for the fields a mutation may set.
_CUSTOMER_COLUMN_OF = {
    "name": "name",
    "contact_person": "contact_person",
    "email": "email",
    "phone": "phone",
    "address": "address",
    "city": "city",
    "state": "state",
    "zip_code": "zip_code",
    "country": "country",
    "status": "status",
    "sales_rep_id": "assigned_sales_rep_id",
}
# Ids are never empty, so every id sorts after this: "no cursor" is "after ''".
_BEFORE_ALL_IDS = ""


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def _naive_utc(value: datetime) -> datetime:
    # Columns are DATETIME(6) in UTC: the session time zone is pinned to +00:00.
    return value.astimezone(UTC).replace(tzinfo=None)


def _rep(row: Row) -> SalesRepRecord:
    return SalesRepRecord(
        id=row[0], first_name=row[1], last_name=row[2], email=row[3], phone=row[4],
        region=row[5], active=bool(row[6]), created_at=_utc(row[7]),
        updated_at=_utc(row[8]), source=DataSource.MYSQL,
    )  # fmt: skip


def _customer(row: Row) -> CustomerRecord:
    return CustomerRecord(
        id=row[0], name=row[1], contact_person=row[2], email=row[3], phone=row[4],
        address=row[5], city=row[6], state=row[7], zip_code=row[8], country=row[9],
        status=CustomerStatus(row[10]), sales_rep_id=row[11], version=int(row[12]),
        created_at=_utc(row[13]), updated_at=_utc(row[14]), source=DataSource.MYSQL,
    )  # fmt: skip


def _status(value: str | None) -> CustomerStatus | None:
    return None if value is None else CustomerStatus(value)


def _event(row: Row) -> CustomerEventRecord:
    return CustomerEventRecord(
        id=int(row[0]), customer_id=row[1], kind=CustomerEventKind(row[2]), at=_utc(row[3]),
        actor=row[4], from_sales_rep_id=row[5], to_sales_rep_id=row[6],
        from_status=_status(row[7]), to_status=_status(row[8]), note=row[9],
    )  # fmt: skip


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def _column_value(value: object) -> object:
    return value.value if isinstance(value, CustomerStatus) else value


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


class MySQLStore:
    def __init__(
        self, pool: Pool, *, timeout_s: float, name: str = "mysql", outbox: bool = False
    ) -> None:
        self._pool = pool
        self._timeout_s = timeout_s
        self._name = name
        # With a fallback store to keep fresh, every change also leaves an outbox row.
        self._outbox = outbox

    @property
    def source(self) -> DataSource:
        return DataSource.MYSQL

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; the whole operation, wait included, is bounded."""
        try:
            async with asyncio.timeout(self._timeout_s), self._pool.acquire() as connection:
                yield connection
        except TimeoutError:
            raise StoreFailedError(self._name, "timeout") from None
        except OSError:
            raise StoreFailedError(self._name, "connection") from None
        except driver_errors.Error as error:
            if _is_outage(error):
                raise StoreFailedError(self._name, "connection") from None
            raise

    async def _fetch(self, sql: str, params: Sequence[object]) -> list[Row]:
        async with self._connection() as connection, connection.cursor() as cursor:
            await cursor.execute(sql, params)
            return list(await cursor.fetchall())

    async def ping(self) -> None:
        await self._fetch("SELECT 1", [])

    # -- reads ---------------------------------------------------------------

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        sql = (
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers"
            f" WHERE customer_id IN ({_placeholders(len(ids))})"
        )
        return {row[0]: _customer(row) for row in await self._fetch(sql, ids)}

    async def sales_reps_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, SalesRepRecord]:
        sql = (
            f"SELECT {_REP_COLUMNS} FROM sales_reps"
            f" WHERE sales_rep_id IN ({_placeholders(len(ids))})"
        )
        return {row[0]: _rep(row) for row in await self._fetch(sql, ids)}

    async def customers_by_sales_reps(
        self, *, keys: Sequence[RepCustomersKey]
    ) -> list[Page[CustomerRecord]]:
        # Parents of one GraphQL level share their arguments, so this is one
        # statement per level; different aliases with other arguments add one each.
        pages: dict[RepCustomersKey, Page[CustomerRecord]] = {}
        groups: dict[tuple[PageRequest, CustomerStatus | None], list[str]] = {}
        for key in keys:
            groups.setdefault((key.page, key.status), []).append(key.sales_rep_id)
        for (page, status), rep_ids in groups.items():
            unique_ids = sorted(set(rep_ids))
            found = await self._rep_pages(rep_ids=unique_ids, page=page, status=status)
            for rep_id in unique_ids:
                pages[RepCustomersKey(rep_id, page, status)] = found.get(
                    rep_id, Page(items=[], has_next_page=False, total_count=0)
                )
        return [pages[key] for key in keys]

    async def _rep_pages(
        self, *, rep_ids: list[str], page: PageRequest, status: CustomerStatus | None
    ) -> dict[str, Page[CustomerRecord]]:
        status_sql = " AND status = %s" if status else ""
        after = page.after or _BEFORE_ALL_IDS
        # total_count covers the rep's whole list; position restarts after the cursor.
        sql = (
            f"SELECT {_CUSTOMER_COLUMNS}, total_count FROM ("
            f" SELECT {_CUSTOMER_COLUMNS},"
            "  COUNT(*) OVER (PARTITION BY assigned_sales_rep_id) AS total_count,"
            "  ROW_NUMBER() OVER (PARTITION BY assigned_sales_rep_id, customer_id > %s"
            "   ORDER BY customer_id) AS position,"
            "  customer_id > %s AS past_cursor"
            f" FROM customers WHERE assigned_sales_rep_id IN ({_placeholders(len(rep_ids))})"
            f"{status_sql}"
            ") AS ranked WHERE past_cursor AND position <= %s"
            " ORDER BY assigned_sales_rep_id, customer_id"
        )
        params: list[object] = [after, after, *rep_ids]
        if status:
            params.append(status.value)
        params.append(page.first + 1)
        rows_by_rep: dict[str, list[Row]] = {}
        for row in await self._fetch(sql, params):
            rows_by_rep.setdefault(row[11], []).append(row)
        result = {}
        for rep_id, rows in rows_by_rep.items():
            kept, has_next = _split_page(rows, page.first)
            result[rep_id] = Page(
                items=[_customer(row) for row in kept],
                has_next_page=has_next,
                total_count=int(rows[0][-1]),
            )
        return result

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int
    ) -> Mapping[str, list[CustomerEventRecord]]:
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM ("
            f" SELECT {_EVENT_COLUMNS}, ROW_NUMBER() OVER"
            "  (PARTITION BY customer_id ORDER BY event_id DESC) AS position"
            f" FROM customer_events WHERE customer_id IN ({_placeholders(len(customer_ids))})"
            ") AS newest WHERE position <= %s ORDER BY customer_id, event_id DESC"
        )
        events: dict[str, list[CustomerEventRecord]] = {}
        for row in await self._fetch(sql, [*customer_ids, first]):
            events.setdefault(row[1], []).append(_event(row))
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
        return await self._counted_page(rows, page, _customer, count_sql=(conditions, params))

    async def sales_reps_page(self, *, page: PageRequest) -> Page[SalesRepRecord]:
        sql = (
            f"SELECT {_REP_COLUMNS}, total_count FROM ("
            f" SELECT {_REP_COLUMNS}, COUNT(*) OVER () AS total_count FROM sales_reps"
            ") AS everyone WHERE sales_rep_id > %s ORDER BY sales_rep_id LIMIT %s"
        )
        rows = await self._fetch(sql, [page.after or _BEFORE_ALL_IDS, page.first + 1])
        return await self._counted_page(rows, page, _rep, count_sql=None)

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
            items=[to_record(row) for row in kept], has_next_page=has_next, total_count=total
        )

    async def _count(self, count_sql: tuple[str, list[object]] | None) -> int:
        if count_sql is None:
            rows = await self._fetch("SELECT COUNT(*) FROM sales_reps", [])
        else:
            conditions, params = count_sql
            rows = await self._fetch(f"SELECT COUNT(*) FROM customers WHERE {conditions}", params)
        return int(rows[0][0])

    # -- writes --------------------------------------------------------------

    async def assign_customer(self, *, change: CustomerChange, sales_rep_id: str) -> CustomerRecord:
        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            rep = await self._rep_for_share(cursor, sales_rep_id)
            return changes.plan_assign(customer, changes.check_assignable(rep, sales_rep_id))

        return await self._change_customer(change, plan)

    async def unassign_customer(self, *, change: CustomerChange) -> CustomerRecord:
        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            return changes.plan_unassign(customer)

        return await self._change_customer(change, plan)

    async def update_customer_status(
        self, *, change: CustomerChange, status: CustomerStatus
    ) -> CustomerRecord:
        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            return changes.plan_status(customer, status)

        return await self._change_customer(change, plan)

    async def update_customer(self, *, change: CustomerChange) -> CustomerRecord:
        async def plan(cursor: Cursor, customer: CustomerRecord) -> changes.PlannedChange | None:
            return changes.plan_update(customer, change.fields)

        return await self._change_customer(change, plan)

    async def create_customer(self, *, customer: NewCustomer, actor: str | None) -> CustomerRecord:
        at = datetime.now(UTC)
        async with self._transaction() as cursor:
            if customer.sales_rep_id is not None:
                rep = await self._rep_for_share(cursor, customer.sales_rep_id)
                changes.check_assignable(rep, customer.sales_rep_id)
            try:
                await cursor.execute(
                    f"INSERT INTO customers ({_CUSTOMER_COLUMNS})"
                    f" VALUES ({_placeholders(15)})",
                    [
                        customer.id, customer.name, customer.contact_person, customer.email,
                        customer.phone, customer.address, customer.city, customer.state,
                        customer.zip_code, customer.country, customer.status.value,
                        customer.sales_rep_id, 1, _naive_utc(at), _naive_utc(at),
                    ],
                )  # fmt: skip
            except driver_errors.IntegrityError as error:
                if error.args and error.args[0] == _DUPLICATE_KEY:
                    raise AlreadyExistsError("customer", customer.id) from None
                raise
            event = changes.created_event(customer, actor=actor, event_id=0, at=at)
            await self._insert_event(cursor, event)
            await self._insert_outbox(cursor, customer.id, version=1, at=at)
        return CustomerRecord(
            id=customer.id, name=customer.name, contact_person=customer.contact_person,
            email=customer.email, phone=customer.phone, address=customer.address,
            city=customer.city, state=customer.state, zip_code=customer.zip_code,
            country=customer.country, status=customer.status,
            sales_rep_id=customer.sales_rep_id, version=1, created_at=at, updated_at=at,
            source=DataSource.MYSQL,
        )  # fmt: skip

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
            customer = changes.check_found(row and _customer(row), change.customer_id)
            changes.check_version(customer, change.expected_version)
            plan = await plan_for(cursor, customer)
            if plan is None:
                return customer
            assignments = [f"{_CUSTOMER_COLUMN_OF[name]} = %s" for name in plan.fields]
            values = [_column_value(value) for value in plan.fields.values()]
            await cursor.execute(
                f"UPDATE customers SET {', '.join(assignments)},"
                " version = version + 1, updated_at = %s WHERE customer_id = %s",
                [*values, _naive_utc(at), change.customer_id],
            )
            await self._insert_event(cursor, changes.event_for(plan, change, event_id=0, at=at))
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
            [customer_id, version, _naive_utc(at)],
        )

    @staticmethod
    async def _rep_for_share(cursor: Cursor, sales_rep_id: str) -> SalesRepRecord | None:
        # The shared lock keeps the rep from being deactivated until we commit.
        await cursor.execute(
            f"SELECT {_REP_COLUMNS} FROM sales_reps WHERE sales_rep_id = %s LOCK IN SHARE MODE",
            [sales_rep_id],
        )
        row = await cursor.fetchone()
        return None if row is None else _rep(row)

    @staticmethod
    async def _insert_event(cursor: Cursor, event: CustomerEventRecord) -> None:
        try:
            await cursor.execute(
                "INSERT INTO customer_events (customer_id, kind, occurred_at, actor,"
                " from_sales_rep_id, to_sales_rep_id, from_status, to_status, note)"
                f" VALUES ({_placeholders(9)})",
                [
                    event.customer_id, event.kind.value, _naive_utc(event.at), event.actor,
                    event.from_sales_rep_id, event.to_sales_rep_id,
                    event.from_status.value if event.from_status else None,
                    event.to_status.value if event.to_status else None, event.note,
                ],
            )  # fmt: skip
        except driver_errors.IntegrityError as error:
            if error.args and error.args[0] == _FOREIGN_KEY_MISSING:
                raise NotFoundError("customer", event.customer_id, field="customerId") from None
            raise


# The sync commands read and write these tables in bulk with the same mapping.
REP_COLUMNS, CUSTOMER_COLUMNS, EVENT_COLUMNS = _REP_COLUMNS, _CUSTOMER_COLUMNS, _EVENT_COLUMNS
rep_from_row, customer_from_row, event_from_row = _rep, _customer, _event
naive_utc = _naive_utc
placeholders = _placeholders

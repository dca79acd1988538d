"""The REST peer: hand-written Starlette + asyncmy endpoints, fewest statements.

The near-limit reference: each read is one statement (joins and window
functions), the assignment is one transaction of a locking read, the UPDATE and
the event INSERT. Each route answers with the JSON the API gives the matching
GraphQL operation, so the smoke check can compare them byte for byte.

    GET  /customers/{id}                          O1
    GET  /salesreps/{id}/customers?first=N        O2
    GET  /overview?reps=R&customers=C&events=E    O3
    POST /assignments {customerId, salesRepId}    O4
    GET  /full/customers/{id}                     R1: the API's REST route's JSON
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import jwt
from asyncmy.pool import Pool
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from bench.peers.serve import serve
from graphql_api.errors import NotFoundError, ValidationFailedError
from graphql_api.resources import close_mysql_pool, open_mysql_pool
from graphql_api.settings import Settings

Row = tuple[Any, ...]
_MAX_FIRST = 10_000

_CUSTOMER_COLUMNS = (
    "c.customer_id, c.name, c.contact_person, c.email, c.phone, c.address, c.city, c.state,"
    " c.zip_code, c.country"
)
_O1_SQL = (
    f"SELECT {_CUSTOMER_COLUMNS}, r.sales_rep_id, r.first_name, r.last_name, r.email"
    " FROM customers c LEFT JOIN sales_reps r ON r.sales_rep_id = c.assigned_sales_rep_id"
    " WHERE c.customer_id = %s"
)
# LEFT JOIN from the rep: a rep without customers is one row of NULLs, no rep no row.
_O2_SQL = (
    f"SELECT r.sales_rep_id, {_CUSTOMER_COLUMNS} FROM sales_reps r"
    " LEFT JOIN customers c ON c.assigned_sales_rep_id = r.sales_rep_id"
    " WHERE r.sales_rep_id = %s ORDER BY c.customer_id LIMIT %s"
)
_O3_SQL = (
    "WITH reps AS (SELECT sales_rep_id FROM sales_reps ORDER BY sales_rep_id LIMIT %s),"
    " ranked_customers AS (SELECT c.customer_id, c.name, c.assigned_sales_rep_id,"
    "  ROW_NUMBER() OVER (PARTITION BY c.assigned_sales_rep_id ORDER BY c.customer_id) AS pos"
    "  FROM customers c JOIN reps ON c.assigned_sales_rep_id = reps.sales_rep_id),"
    " page AS (SELECT * FROM ranked_customers WHERE pos <= %s),"
    " ranked_events AS (SELECT e.customer_id, e.kind, e.occurred_at,"
    "  ROW_NUMBER() OVER (PARTITION BY e.customer_id ORDER BY e.event_id DESC) AS pos"
    "  FROM customer_events e JOIN page ON e.customer_id = page.customer_id)"
    " SELECT reps.sales_rep_id, page.customer_id, page.name, ranked_events.kind,"
    "  ranked_events.occurred_at"
    " FROM reps LEFT JOIN page ON page.assigned_sales_rep_id = reps.sales_rep_id"
    " LEFT JOIN ranked_events ON ranked_events.customer_id = page.customer_id"
    "  AND ranked_events.pos <= %s"
    " ORDER BY reps.sales_rep_id, page.customer_id, ranked_events.pos"
)
# R1 in one statement: the customer, its rep and its newest events (a derived table
# with its own LIMIT, joined to the one customer row).
_R1_SQL = (
    f"SELECT {_CUSTOMER_COLUMNS}, c.status, c.version, c.created_at, c.updated_at,"
    " r.sales_rep_id, r.first_name, r.last_name, r.email, r.phone, r.region, r.active,"
    " e.kind, e.occurred_at, e.actor, e.note, e.from_status, e.to_status,"
    " e.from_sales_rep_id, e.to_sales_rep_id"
    " FROM customers c LEFT JOIN sales_reps r ON r.sales_rep_id = c.assigned_sales_rep_id"
    " LEFT JOIN (SELECT * FROM customer_events WHERE customer_id = %s"
    "  ORDER BY event_id DESC LIMIT %s) e ON TRUE"
    " WHERE c.customer_id = %s ORDER BY e.event_id DESC"
)
R1_HISTORY = 20
_R1_REP_KEYS = ("id", "firstName", "lastName", "email", "phone", "region", "active")
_R1_EVENT_KEYS = (
    "kind",
    "at",
    "actor",
    "note",
    "fromStatus",
    "toStatus",
    "fromSalesRepId",
    "toSalesRepId",
)
# FOR UPDATE locks the customer (and the rep, which keeps it active until commit).
_O4_LOCK_SQL = (
    "SELECT c.assigned_sales_rep_id, c.version, r.sales_rep_id, r.first_name, r.last_name,"
    " r.active FROM customers c LEFT JOIN sales_reps r ON r.sales_rep_id = %s"
    " WHERE c.customer_id = %s FOR UPDATE"
)
_O4_UPDATE_SQL = (
    "UPDATE customers SET assigned_sales_rep_id = %s, version = version + 1, updated_at = %s"
    " WHERE customer_id = %s"
)
_O4_EVENT_SQL = (
    "INSERT INTO customer_events (customer_id, kind, occurred_at, actor, from_sales_rep_id,"
    " to_sales_rep_id, from_status, to_status, note)"
    " VALUES (%s, 'ASSIGNED', %s, %s, %s, %s, NULL, NULL, NULL)"
)


def _iso(value: datetime) -> str:
    # The API's DateTime: UTC, isoformat with its offset.
    return value.replace(tzinfo=UTC).isoformat()


def _customer_fields(row: Sequence[Any]) -> dict[str, Any]:
    keys = (
        "id",
        "name",
        "contactPerson",
        "email",
        "phone",
        "address",
        "city",
        "state",
        "zipCode",
        "country",
    )
    return dict(zip(keys, row, strict=True))


def _pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


async def _fetch(request: Request, sql: str, params: Sequence[object]) -> list[Row]:
    async with _pool(request).acquire() as connection, connection.cursor() as cursor:
        await cursor.execute(sql, params)
        return list(await cursor.fetchall())


def _int_param(request: Request, name: str) -> int | None:
    try:
        value = int(request.query_params[name])
    except (KeyError, ValueError):
        return None
    return value if 0 <= value <= _MAX_FIRST else None


def _bad_request(message: str) -> Response:
    return JSONResponse({"errors": [{"message": message}]}, status_code=400)


async def customer(request: Request) -> Response:
    rows = await _fetch(request, _O1_SQL, [request.path_params["customer_id"]])
    if not rows:
        return JSONResponse({"data": {"customer": None}})
    row = rows[0]
    rep = None
    if row[10] is not None:
        rep = {"id": row[10], "fullName": f"{row[11]} {row[12]}", "email": row[13]}
    return JSONResponse({"data": {"customer": {**_customer_fields(row[:10]), "salesRep": rep}}})


async def rep_customers(request: Request) -> Response:
    first = _int_param(request, "first")
    if first is None:
        return _bad_request(f"first must be between 0 and {_MAX_FIRST}")
    rows = await _fetch(request, _O2_SQL, [request.path_params["sales_rep_id"], first])
    if not rows:
        return JSONResponse({"data": {"salesRep": None}})
    nodes = [_customer_fields(row[1:]) for row in rows if row[1] is not None]
    return JSONResponse({"data": {"salesRep": {"customers": {"nodes": nodes}}}})


def _full_customer(row: Row) -> dict[str, Any]:
    status, version, created_at, updated_at = row[10:14]
    rep = None
    if row[14] is not None:
        values = (*row[14:20], bool(row[20]))
        rep = {**dict(zip(_R1_REP_KEYS, values, strict=True)), "source": "mysql"}
    return {
        **_customer_fields(row[:10]),
        "status": status,
        "version": version,
        "createdAt": _iso(created_at),
        "updatedAt": _iso(updated_at),
        "source": "mysql",
        "salesRep": rep,
    }


def _event(row: Row) -> dict[str, Any]:
    kind, at, *rest = row[21:]
    return dict(zip(_R1_EVENT_KEYS, (kind, _iso(at), *rest), strict=True))


async def full_customer(request: Request) -> Response:
    """What the API's GET /customers/{id} REST route answers, by hand."""
    customer_id = request.path_params["customer_id"]
    rows = await _fetch(request, _R1_SQL, [customer_id, R1_HISTORY, customer_id])
    if not rows:
        return JSONResponse({"code": "NOT_FOUND"}, status_code=404)
    history = [_event(row) for row in rows if row[21] is not None]
    customer = {**_full_customer(rows[0]), "history": history}
    return JSONResponse({"customer": customer, "source": "mysql", "degraded": False})


async def overview(request: Request) -> Response:
    limits = [_int_param(request, name) for name in ("reps", "customers", "events")]
    if None in limits:
        return _bad_request(f"reps, customers and events must be between 0 and {_MAX_FIRST}")
    reps: list[dict[str, Any]] = []
    customers: dict[str, dict[str, Any]] = {}
    for rep_id, customer_id, name, kind, at in await _fetch(request, _O3_SQL, limits):
        if not reps or reps[-1]["id"] != rep_id:
            reps.append({"id": rep_id, "customers": {"nodes": []}})
        if customer_id is None:
            continue
        node = customers.get(customer_id)
        if node is None:
            node = {"id": customer_id, "name": name, "salesRep": {"id": rep_id}, "history": []}
            customers[customer_id] = node
            reps[-1]["customers"]["nodes"].append(node)
        if kind is not None:
            node["history"].append({"kind": kind, "at": _iso(at)})
    for rep in reps:
        del rep["id"]  # O3 selects no field of the rep itself
    return JSONResponse({"data": {"salesReps": {"nodes": reps}}})


def _user_error(error: NotFoundError | ValidationFailedError) -> dict[str, Any]:
    if isinstance(error, NotFoundError):
        return {"__typename": "NotFoundError", "code": "NOT_FOUND", "message": error.message}
    return {"__typename": "ValidationError", "code": "VALIDATION", "message": error.message}


async def assign(request: Request) -> Response:
    body = await request.json()
    customer_id, rep_id = body.get("customerId"), body.get("salesRepId")
    if not isinstance(customer_id, str) or not isinstance(rep_id, str):
        return _bad_request("customerId and salesRepId must be strings")
    try:
        result = await _assign(_pool(request), customer_id, rep_id, actor=request.state.subject)
    except (NotFoundError, ValidationFailedError) as error:
        return JSONResponse({"data": {"assignCustomer": _user_error(error)}})
    return JSONResponse({"data": {"assignCustomer": result}})


async def _assign(pool: Pool, customer_id: str, rep_id: str, *, actor: str) -> dict[str, Any]:
    at = datetime.now(UTC).replace(tzinfo=None)
    async with pool.acquire() as connection, connection.cursor() as cursor:
        await connection.begin()
        try:
            await cursor.execute(_O4_LOCK_SQL, [rep_id, customer_id])
            row = await cursor.fetchone()
            if row is None:
                raise NotFoundError("customer", customer_id, field="customerId")
            current_rep, version, found_rep, first_name, last_name, active = row
            if found_rep is None:
                raise NotFoundError("sales rep", rep_id, field="salesRepId")
            if not active:
                raise ValidationFailedError(
                    "salesRepId", f"sales rep {rep_id!r} is inactive and takes no customers"
                )
            if current_rep != rep_id:
                await cursor.execute(_O4_UPDATE_SQL, [rep_id, at, customer_id])
                await cursor.execute(_O4_EVENT_SQL, [customer_id, at, actor, current_rep, rep_id])
                version += 1
        except BaseException:
            await connection.rollback()
            raise
        await connection.commit()
    return {
        "__typename": "Customer",
        "id": customer_id,
        "version": version,
        "salesRep": {"id": rep_id, "fullName": f"{first_name} {last_name}"},
    }


async def ping(request: Request) -> Response:
    """The cheapest route that proves who asks: the floor case's peer of `{ __typename }`."""
    return JSONResponse({"data": {"__typename": "Query"}})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


class _BearerAuth(BaseHTTPMiddleware):
    """Like the API in production: every data request proves who sends it (HS256)."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        super().__init__(app)
        self._secret = secret

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path == "/healthz":
            return await call_next(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], leeway=30)
        except jwt.InvalidTokenError:
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        request.state.subject = str(claims["sub"])
        return await call_next(request)


def create_app(settings: Settings) -> Starlette:
    assert settings.mysql is not None, "the REST peer needs MySQL (RDS_ENDPOINT)"
    mysql = settings.mysql
    secret = os.environ["GRAPHQL_API_JWT_SECRET"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await open_mysql_pool(mysql)
        try:
            yield
        finally:
            await close_mysql_pool(app.state.pool)

    return Starlette(
        routes=[
            Route("/customers/{customer_id}", customer),
            Route("/salesreps/{sales_rep_id}/customers", rep_customers),
            Route("/overview", overview),
            Route("/full/customers/{customer_id}", full_customer),
            Route("/assignments", assign, methods=["POST"]),
            Route("/ping", ping),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
        middleware=[Middleware(_BearerAuth, secret=secret)],
    )


if __name__ == "__main__":
    serve("rest", create_app, sys.argv[1:])

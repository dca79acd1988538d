"""The replaced function's four routes, each a stored GraphQL operation and two mappings.

    GET  /customers/{customerId}                  RestGetCustomer
    GET  /salesreps/{salesRepId}/customers        RestGetSalesRepCustomers
    POST /assignments                             RestAssignCustomer (RestCreateCustomer)
    PUT  /customers/{customerId}                  RestUpdateCustomerStatus, RestAssignCustomer
                                                  or RestUnassignCustomer

What each takes and answers is in openapi.json (web/rest/openapi.py builds it).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from graphql_api.web.execution import Execution
from graphql_api.web.json_body import encode_json
from graphql_api.web.rest import documents, inputs, shapes
from graphql_api.web.rest.calls import Call, Handler, rest_endpoint
from graphql_api.web.rest.idempotency import answer_once, fingerprint, key_hash, key_of
from graphql_api.web.rest.openapi import openapi_text
from graphql_api.web.rest.problems import Problem, invalid, problem_response

# A create's GraphQL input fields as POST /assignments names them.
_CREATE_FIELDS = {
    "id": "customerId",
    "salesRepId": "salesRepId",
    **{name: f"customer.{name}" for name in (*inputs.CUSTOMER_MEMBERS, "status")},
}


def _json(
    body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        encode_json(body), status_code=status, media_type="application/json", headers=headers
    )


def _customer_answer(call: Call, customer: dict[str, Any], *, status: int = 200) -> Response:
    shaped = shapes.customer(customer)
    headers = {"ETag": inputs.etag(customer["version"])}
    if status == 201:
        headers["Location"] = f"/customers/{customer['id']}"
    return _json(shapes.envelope("customer", shaped, call.stores), status=status, headers=headers)


async def get_customer(call: Call) -> Response:
    customer_id = inputs.checked_id("customerId", call.request.path_params["customer_id"])
    data = await call.run(documents.GET_CUSTOMER, {"id": customer_id})
    if data["customer"] is None:
        raise Problem("NOT_FOUND", f"customer {customer_id!r} does not exist")
    return _customer_answer(call, data["customer"])


async def get_rep_customers(call: Call) -> Response:
    request = call.request
    rep_id = inputs.checked_id("salesRepId", request.path_params["sales_rep_id"])
    limit = inputs.page_limit(request, max_page_size=call.execution.settings.max_page_size)
    variables = {"id": rep_id, "first": limit, "after": inputs.page_cursor(request)}
    data = await call.run(
        documents.GET_REP_CUSTOMERS, variables, arguments={"after": "cursor", "first": "limit"}
    )
    rep = data["salesRep"]
    if rep is None:
        raise Problem("NOT_FOUND", f"sales rep {rep_id!r} does not exist")
    page = rep["customers"]
    next_cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    body = {
        **shapes.envelope("salesRep", shapes.sales_rep(rep), call.stores),
        "customers": [shapes.customer(item) for item in page["nodes"]],
        "totalCount": page["totalCount"],
        "nextCursor": next_cursor,
    }
    link = shapes.next_link(request.url.path, limit=limit, cursor=next_cursor)
    return _json(body, headers={"Link": link} if link else None)


async def post_assignment(call: Call) -> Response:
    data = await inputs.json_object(call.request)
    body = inputs.assignment_body(data)
    key = key_of(call.request)
    if key is None:
        return await _assign_or_create(call, body)
    return await answer_once(
        call.request.app.state.resources.idempotency_keys,
        hashed_key=key_hash(call.context.principal.subject, key),
        request_fingerprint=fingerprint("POST", "/assignments", data),
        answer=lambda: _assign_or_create(call, body),
    )


async def _assign_or_create(call: Call, body: inputs.AssignmentBody) -> Response:
    """Assigns; creates the customer when it does not exist and `customer` says how."""
    assignment = {
        "customerId": body.customer_id,
        "salesRepId": body.sales_rep_id,
        "expectedVersion": body.expected_version,
    }
    result = (await call.run(documents.ASSIGN_CUSTOMER, {"input": assignment}))["result"]
    if body.new_customer is not None and _customer_missing(result):
        created = await _create(call, body, body.new_customer)
        if created is not None:
            return created
        # Another request created it in between: assign it like any other.
        result = (await call.run(documents.ASSIGN_CUSTOMER, {"input": assignment}))["result"]
    return _customer_answer(call, shapes.written_customer(result, fields={}))


def _customer_missing(result: dict[str, Any]) -> bool:
    # The stores look for the customer before the rep: this NOT_FOUND is the customer's.
    return result.get("code") == "NOT_FOUND" and result["message"].startswith("customer ")


async def _create(
    call: Call, body: inputs.AssignmentBody, fields: dict[str, Any]
) -> Response | None:
    """201 with the new customer; None when it exists by now (a concurrent create)."""
    if body.expected_version is not None:
        # A version expects an existing customer: its absence is the answer.
        raise Problem("NOT_FOUND", f"customer {body.customer_id!r} does not exist")
    new = {**fields, "id": body.customer_id, "salesRepId": body.sales_rep_id}
    result = (await call.run(documents.CREATE_CUSTOMER, {"input": new}))["result"]
    if result.get("code") == "ALREADY_EXISTS":
        return None
    return _customer_answer(
        call, shapes.written_customer(result, fields=_CREATE_FIELDS), status=201
    )


async def put_customer(call: Call) -> Response:
    customer_id = inputs.checked_id("customerId", call.request.path_params["customer_id"])
    update = inputs.customer_update(await inputs.json_object(call.request))
    header_version = inputs.if_match_version(call.request)
    if (
        None not in (header_version, update.expected_version)
        and header_version != update.expected_version
    ):
        raise invalid("expectedVersion", "expectedVersion and If-Match name different versions")
    try:
        customer = await _update(
            call, customer_id, update, header_version or update.expected_version
        )
    except Problem as problem:
        if problem.code == "VERSION_CONFLICT" and header_version is not None:
            problem.status = 412
        raise
    return _customer_answer(call, customer)


async def _update(
    call: Call, customer_id: str, update: inputs.CustomerUpdate, version: int | None
) -> dict[str, Any]:
    """One change: the status with the rep when both are given (both or neither
    is written), else whichever is."""
    change: dict[str, Any] = {"customerId": customer_id, "expectedVersion": version}
    if update.status is not None:
        change["status"] = update.status
        if update.changes_rep:
            change["salesRepId"] = update.sales_rep_id
        return await _changed(call, documents.UPDATE_STATUS, change)
    if update.sales_rep_id is None:
        return await _changed(call, documents.UNASSIGN_CUSTOMER, change)
    change["salesRepId"] = update.sales_rep_id
    return await _changed(call, documents.ASSIGN_CUSTOMER, change)


async def _changed(call: Call, operation: str, change: dict[str, Any]) -> dict[str, Any]:
    result = (await call.run(operation, {"input": change}))["result"]
    return shapes.written_customer(result, fields={})


# path -> method -> (operationId in openapi.json, handler)
_ROUTES: dict[str, dict[str, tuple[str, Handler]]] = {
    "/customers/{customer_id}": {
        "GET": ("getCustomer", get_customer),
        "PUT": ("updateCustomer", put_customer),
    },
    "/salesreps/{sales_rep_id}/customers": {"GET": ("getSalesRepCustomers", get_rep_customers)},
    "/assignments": {"POST": ("assignCustomer", post_assignment)},
}


def rest_routes(execution: Execution) -> list[Route]:
    document = openapi_text(max_page_size=execution.settings.max_page_size).encode()

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    routes = [
        Route(path, rest_endpoint(execution, handlers), methods=list(handlers))
        for path, handlers in _ROUTES.items()
    ]
    return [*routes, Route("/openapi.json", openapi, methods=["GET"])]


async def no_such_route(request: Request, refused: Exception) -> Response:
    """404 and 405 of the router: problem details on these routes' paths, else
    Starlette's plain text as before."""
    assert isinstance(refused, HTTPException)
    if not is_rest_path(request.url.path):
        return PlainTextResponse(refused.detail, refused.status_code, headers=refused.headers)
    code = "NOT_FOUND" if refused.status_code == 404 else "METHOD_NOT_ALLOWED"
    problem = Problem(code, refused.detail, status=refused.status_code)
    problem.headers.update(refused.headers or {})
    return problem_response(problem)


def is_rest_path(path: str) -> bool:
    """Whether a request's path is one of these routes' (the metrics count them)."""
    return path == "/assignments" or path.startswith(("/customers/", "/salesreps/"))

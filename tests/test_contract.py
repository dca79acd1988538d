"""schema.graphql is the contract: the code must export it, and client operations must
validate against it, so a change that breaks a front end fails here first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLUnionType,
    IntValueNode,
    build_schema,
    parse,
    validate,
)
from openapi_spec_validator import validate as validate_spec

from graphql_api.admin.sqlfiles import SEED_FILE_NAME, render_demo_seed
from graphql_api.schema import schema_sdl
from graphql_api.stores.demo import demo_data
from graphql_api.web.rest.documents import DOCUMENTS
from graphql_api.web.rest.openapi import default_openapi_text

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((ROOT / "tests" / "operations").glob("*.graphql"))

# Names the issue makes binding: type -> fields (arguments checked below).
BINDING_FIELDS = {
    "SalesRep": {
        "id",
        "firstName",
        "lastName",
        "fullName",
        "email",
        "phone",
        "region",
        "active",
        "customers",
        "source",
    },
    "Customer": {
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
        "status",
        "salesRep",
        "history",
        "version",
        "createdAt",
        "updatedAt",
        "source",
    },
    "CustomerEvent": {
        "kind",
        "at",
        "actor",
        "note",
        "fromSalesRep",
        "toSalesRep",
        "fromStatus",
        "toStatus",
    },
    "PageInfo": {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"},
    "CustomerConnection": {"edges", "nodes", "pageInfo", "totalCount"},
    "SalesRepConnection": {"edges", "nodes", "pageInfo", "totalCount"},
    "Query": {"customer", "customers", "salesRep", "salesReps"},
    "Mutation": {
        "assignCustomer",
        "unassignCustomer",
        "updateCustomerStatus",
        "createCustomer",
        "updateCustomer",
    },
    "NotFoundError": {"code", "message", "id"},
    "ValidationError": {"code", "message", "field"},
    "VersionConflictError": {"code", "message", "currentVersion"},
    "AlreadyExistsError": {"code", "message", "id"},
}
BINDING_ENUMS = {
    "DataSource": {"MYSQL", "DYNAMODB", "MEMORY"},
    "CustomerStatus": {"PROSPECT", "ACTIVE", "INACTIVE", "CHURNED"},
    "CustomerEventKind": {"CREATED", "UPDATED", "ASSIGNED", "UNASSIGNED", "STATUS_CHANGED"},
}


def committed_sdl() -> str:
    return (ROOT / "schema.graphql").read_text()


def test_exported_schema_matches_the_committed_contract() -> None:
    assert schema_sdl() == committed_sdl(), (
        "schema.graphql differs from the code: review the change, then `make schema`"
    )


def test_exported_openapi_matches_the_committed_document() -> None:
    assert default_openapi_text() == (ROOT / "openapi.json").read_text(), (
        "openapi.json differs from the code: review the change, then `make openapi`"
    )


def test_committed_openapi_is_a_valid_openapi_3_1_document() -> None:
    validate_spec(json.loads((ROOT / "openapi.json").read_text()))


@pytest.mark.parametrize("name", sorted(DOCUMENTS), ids=str)
def test_stored_rest_operation_is_valid_against_the_contract(name: str) -> None:
    """The REST routes' stored operations are clients of the contract like any other."""
    assert validate(build_schema(committed_sdl()), parse(DOCUMENTS[name])) == []


def test_contract_keeps_the_binding_names() -> None:
    schema = build_schema(committed_sdl())
    for type_name, fields in BINDING_FIELDS.items():
        graphql_type = schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType), type_name
        assert fields <= set(graphql_type.fields), type_name
    for enum_name, values in BINDING_ENUMS.items():
        enum_type = schema.get_type(enum_name)
        assert isinstance(enum_type, GraphQLEnumType), enum_name
        assert set(enum_type.values) == values
    sales_rep = schema.get_type("SalesRep")
    assert isinstance(sales_rep, GraphQLObjectType)
    customers = sales_rep.fields["customers"]
    assert set(customers.args) == {"first", "after", "status"}
    first = customers.args["first"]
    assert str(first.type) == "Int"
    assert first.ast_node is not None
    assert isinstance(first.ast_node.default_value, IntValueNode)
    assert first.ast_node.default_value.value == "50"
    union = schema.get_type("CustomerResult")
    assert isinstance(union, GraphQLUnionType)
    assert {t.name for t in union.types} == {
        "Customer",
        "NotFoundError",
        "ValidationError",
        "VersionConflictError",
        "AlreadyExistsError",
    }


def test_there_are_client_operations_to_check() -> None:
    assert len(OPERATIONS) >= 9


@pytest.mark.parametrize("path", OPERATIONS, ids=[path.stem for path in OPERATIONS])
def test_client_operation_is_valid_against_the_contract(path: Path) -> None:
    errors = validate(build_schema(committed_sdl()), parse(path.read_text()))
    assert errors == [], [error.message for error in errors]


def test_a_breaking_change_would_be_caught() -> None:
    """The check above can fail: drop a field the customer page uses and it does."""
    broken = committed_sdl().replace("  contactPerson: String\n", "", 1)
    operation = parse((ROOT / "tests" / "operations" / "CustomerPage.graphql").read_text())
    errors = validate(build_schema(broken), operation)
    assert any("contactPerson" in error.message for error in errors)


def test_committed_seed_file_matches_the_demo_generator() -> None:
    committed = (ROOT / "sql" / SEED_FILE_NAME).read_text()
    assert committed == render_demo_seed(demo_data()), "run `make seed-sql`"
